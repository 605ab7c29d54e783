-- The accountability trail: every event from every topic, in the order audit received them, each
-- chained to the one before by SHA-256. Append-only, enforced by the database twice over: the
-- service's role is granted only SELECT and INSERT, and a trigger refuses UPDATE, DELETE and
-- TRUNCATE even for the owner.
CREATE TABLE trail (
    seq         bigint PRIMARY KEY CHECK (seq >= 1),
    event_key   text NOT NULL UNIQUE,          -- CloudEvents source#id, the dedupe key
    topic       text NOT NULL,
    subject     text NOT NULL,
    type        text NOT NULL,
    actor       text NOT NULL,
    event_time  timestamptz NOT NULL,
    event       text NOT NULL,                 -- canonical bytes (docs/CANONICAL.md), as UTF-8 text
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX trail_by_subject ON trail (subject, seq);

CREATE FUNCTION trail_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the trail is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER trail_append_only BEFORE UPDATE OR DELETE ON trail
    FOR EACH ROW EXECUTE FUNCTION trail_refuse_change();
CREATE TRIGGER trail_no_truncate BEFORE TRUNCATE ON trail
    FOR EACH STATEMENT EXECUTE FUNCTION trail_refuse_change();

GRANT SELECT, INSERT ON trail TO {{role}};
