-- intake's own tables beside its event store (events, outbox, relay_state: the shared
-- zfcommon/migrations_eventstore, applied first).

-- Idempotency-Key: the first answer to a key, stored in the same transaction as its effects.
CREATE TABLE idempotency_keys (
    principal    text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       integer NOT NULL,
    body         jsonb NOT NULL,
    headers      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);

-- Per-case data keys for complainant data, wrapped by the master key. Deleting a row shreds the
-- complainant data of its case everywhere (events, Kafka, the trail) at once.
CREATE TABLE contact_keys (
    kid        text PRIMARY KEY,
    wrapped    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON idempotency_keys TO {{role}};
GRANT SELECT, INSERT, DELETE ON contact_keys TO {{role}};
