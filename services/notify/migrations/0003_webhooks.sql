-- Outbound webhooks: department subscriptions, hotline status callbacks, their deliveries and the
-- delivery log. docs/CHANNELS.md ("Outbound webhooks", "Hotline status callbacks") explains the rules.

-- What notify now keeps of a case for fan-out: its units (lead and cooperating), where it came from
-- (origin: the hotline order number), the last report text (the hotline's 办理结果) and the whole
-- zfcommon.caseview row (`view`), so notify folds events with the same rules as ledger and audit.
-- Rows made before this migration have no view: `python -m notify.entrypoints.rebuild` refills them.
ALTER TABLE watched_cases
    ADD COLUMN lead_unit         text,
    ADD COLUMN cooperating_units text[] NOT NULL DEFAULT '{}',
    ADD COLUMN origin            jsonb,
    ADD COLUMN last_report       text,
    ADD COLUMN view              jsonb;

-- A unit's endpoint. The secret is kept in clear because HMAC signing needs it; only zf_notify reads
-- this schema. During a rotation previous_secret still signs until previous_secret_until.
CREATE TABLE subscriptions (
    id                    text PRIMARY KEY,
    unit                  text NOT NULL,
    url                   text NOT NULL,
    event_types           text[],                 -- NULL: every case event type
    description           text,
    secret                text NOT NULL,
    previous_secret       text,
    previous_secret_until timestamptz,
    active                boolean NOT NULL DEFAULT true,
    disabled_reason       text,                   -- manual | gone (410) | failing (retries exhausted)
    disabled_at           timestamptz,
    -- The hook for telling the owner another way: 'due' when the endpoint was disabled by delivery
    -- failures; whatever sends the notice (e-mail) sets 'sent'.
    owner_notice          text CHECK (owner_notice IN ('due', 'sent')),
    created_at            timestamptz NOT NULL DEFAULT now(),
    created_by            text NOT NULL
);
CREATE INDEX subscriptions_by_unit ON subscriptions (unit) WHERE active;

-- One message to one endpoint (a subscription, or the hotline when subscription_id is NULL). The id
-- is the webhook-id: stable across retries and redeliveries. `body` is the exact bytes sent (signed
-- as they travel, never re-serialised). `seq` orders a case's messages to one endpoint: a later one
-- waits while an earlier one is still pending, so receivers see each case's events in order.
CREATE TABLE deliveries (
    id              text PRIMARY KEY,
    seq             bigserial UNIQUE,
    subscription_id text REFERENCES subscriptions (id) ON DELETE CASCADE,
    case_id         text,
    event_id        text,
    event_type      text NOT NULL,
    content_type    text NOT NULL,
    body            text NOT NULL,
    status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
    attempts        integer NOT NULL DEFAULT 0,   -- in the current round (a redelivery starts a new one)
    next_attempt_at timestamptz,
    last_status     integer,
    last_error      text,
    created_at      timestamptz NOT NULL DEFAULT now(),
    delivered_at    timestamptz
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at) WHERE status = 'pending';
CREATE INDEX deliveries_by_endpoint ON deliveries (subscription_id, seq);
CREATE INDEX deliveries_by_case ON deliveries (case_id, seq) WHERE status = 'pending';

-- The delivery log: every attempt, whatever it came to.
CREATE TABLE delivery_attempts (
    id              bigserial PRIMARY KEY,
    delivery_id     text NOT NULL REFERENCES deliveries (id) ON DELETE CASCADE,
    attempted_at    timestamptz NOT NULL,
    status_code     integer,                      -- NULL: no HTTP answer (timeout, refused)
    duration_ms     integer NOT NULL,
    error           text,
    response        text,                         -- the start of the answer's body
    next_attempt_at timestamptz                   -- NULL: delivered, or no attempt is left
);
CREATE INDEX delivery_attempts_by_delivery ON delivery_attempts (delivery_id, id);

-- Idempotency-Key answers for notify's POSTs (the same layout as intake's).
CREATE TABLE IF NOT EXISTS idempotency_keys (
    principal    text NOT NULL,
    key          text NOT NULL,
    request_hash text NOT NULL,
    status       integer NOT NULL,
    body         jsonb NOT NULL,
    headers      jsonb NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, key)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON subscriptions, deliveries, delivery_attempts TO {{role}};
GRANT USAGE ON SEQUENCE deliveries_seq_seq, delivery_attempts_id_seq TO {{role}};
GRANT SELECT, INSERT ON idempotency_keys TO {{role}};
