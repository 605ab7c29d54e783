-- Shared by every consuming service (ledger, notify, audit), created in the service's own schema.
-- processed_events is the tracking table: a consumer inserts the event id in the same transaction
-- as the projection change it made, so a redelivered event finds its id and has no second effect.
CREATE TABLE processed_events (
    event_id     text PRIMARY KEY,
    topic        text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now()
);
-- The relay stamps every record with the broker epoch; a consumer that sees a newer epoch on a
-- partition knows the broker lost its log and rewinds that partition (see docs/DECISIONS.md).
CREATE TABLE consumer_epochs (
    topic     text NOT NULL,
    partition integer NOT NULL,
    epoch     bigint NOT NULL,
    PRIMARY KEY (topic, partition)
);
GRANT SELECT, INSERT ON processed_events TO {{role}};
GRANT SELECT, INSERT, UPDATE ON consumer_epochs TO {{role}};
