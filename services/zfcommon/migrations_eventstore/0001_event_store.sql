-- The event store of a service that writes events (intake's cases, notify's escalations and
-- bulletins), with its outbox and relay bookkeeping. Idempotent, so a database that got these tables
-- from intake's first migration takes it as a no-op.
--
-- Append-only: the role may INSERT and SELECT, and a trigger refuses UPDATE and DELETE even for the
-- owner. UNIQUE (stream_id, version) is the optimistic-concurrency check: two commands racing on one
-- stream cannot both append version n; the loser gets 409.
CREATE TABLE IF NOT EXISTS events (
    position    bigserial PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    stream_id   text NOT NULL,
    version     integer NOT NULL CHECK (version >= 1),
    type        text NOT NULL,
    payload     jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT events_stream_version UNIQUE (stream_id, version)
);

CREATE OR REPLACE FUNCTION refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE OR REPLACE TRIGGER events_append_only BEFORE UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION refuse_change();
CREATE OR REPLACE TRIGGER events_no_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION refuse_change();

-- The transactional outbox: a row per stored event not yet acknowledged by the broker, inserted in
-- the same transaction as the event. The relay reads whatever rows are committed, so an event that
-- commits late with a lower position is simply picked up on the next pass: there is no cursor to
-- jump past it (the gap problem cannot occur). The trigger wakes the service's relay, which listens
-- on <schema>_outbox.
CREATE TABLE IF NOT EXISTS outbox (
    position bigint PRIMARY KEY REFERENCES events (position)
);
CREATE OR REPLACE FUNCTION outbox_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(TG_TABLE_SCHEMA || '_outbox', '');
    RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER outbox_wakes_relay AFTER INSERT ON outbox
    FOR EACH STATEMENT EXECUTE FUNCTION outbox_notify();

-- Relay bookkeeping: the broker epoch stamped on every record, and the topic ids it last saw. A
-- missing topic or a changed id means the broker lost its log: the epoch goes up and every event
-- is queued again (see docs/DECISIONS.md).
CREATE TABLE IF NOT EXISTS relay_state (
    id        integer PRIMARY KEY CHECK (id = 1),
    epoch     bigint NOT NULL DEFAULT 1,
    topic_ids jsonb NOT NULL DEFAULT '{}'
);
INSERT INTO relay_state (id) VALUES (1) ON CONFLICT DO NOTHING;

GRANT SELECT, INSERT ON events TO {{role}};
GRANT USAGE ON SEQUENCE events_position_seq TO {{role}};
GRANT SELECT, INSERT, DELETE ON outbox TO {{role}};
GRANT SELECT, UPDATE ON relay_state TO {{role}};
