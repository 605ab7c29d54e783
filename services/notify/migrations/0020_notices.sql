-- Notices to units and complainants (docs/NOTICES.md): one row per notice and recipient, queued by the
-- consumer in the transaction that records the event, sent by notify.entrypoints.sender.
--
-- A complainant's phone number is never stored here: `recipient` is the literal 'complainant' and
-- `masked_to` what the number looked like when it was sent to (138****1234); the sender fetches the
-- number from intake at send time. A unit contact's address is the directory's, stored as given.
CREATE TABLE notices (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind                text NOT NULL,
    channel             text NOT NULL CHECK (channel IN ('email', 'sms')),
    audience            text NOT NULL CHECK (audience IN ('unit', 'complainant')),
    unit                text,                   -- the unit addressed (unit notices)
    contact_name        text,
    recipient           text NOT NULL,
    masked_to           text,
    case_id             text,                   -- NULL for notices about no case (a missed weekly report)
    event_id            text NOT NULL,          -- source#id of the event that caused it
    event_type          text NOT NULL,
    context             jsonb NOT NULL,         -- what the template is given (no personal data)
    subject             text,                   -- rendered at the first attempt
    body                text,
    segments            integer,                -- SMS parts, signature included
    status              text NOT NULL DEFAULT 'queued'
                        CHECK (status IN ('queued', 'sent', 'failed', 'not_configured', 'skipped', 'unknown')),
    attempts            integer NOT NULL DEFAULT 0,     -- in the current run (a manual retry starts a new one)
    next_attempt_at     timestamptz,
    provider_message_id text,
    last_error          text,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    sent_at             timestamptz,
    replied_at          timestamptz,            -- visit requests: when the first rating came back
    -- A redelivered or replayed event never queues a notice twice.
    UNIQUE (event_id, recipient, kind)
);
CREATE INDEX notices_due ON notices (next_attempt_at, id) WHERE status = 'queued';
CREATE INDEX notices_by_case ON notices (case_id, id);
CREATE INDEX notices_by_unit ON notices (unit, id);
CREATE INDEX notices_unreachable ON notices (recipient) WHERE status = 'skipped';

-- The delivery log: one row per attempt. An attempt row is committed (on a second connection) before
-- the message leaves, and finished after; one found unfinished while its notice is free means the
-- sender died in between, so the message may or may not have gone: it is never sent again on its own.
CREATE TABLE notice_attempts (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    notice_id           bigint NOT NULL REFERENCES notices (id),
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz,
    result              text CHECK (result IN ('sent', 'retry', 'failed', 'not_configured', 'skipped',
                                               'interrupted')),
    provider_message_id text,
    error               text,
    duration_ms         integer
);
CREATE INDEX notice_attempts_by_notice ON notice_attempts (notice_id, id);

-- Replies to visit requests that came in through POST /v1/sms/replies, by the gateway's webhook-id
-- (a retried delivery gets the first answer). Neither the sender's number nor the text is kept.
CREATE TABLE sms_replies (
    webhook_id    text PRIMARY KEY,
    received_at   timestamptz NOT NULL,
    notice_id     bigint REFERENCES notices (id),
    case_id       text,
    satisfaction  text,
    outcome       text NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON notices, notice_attempts, sms_replies TO {{role}};
GRANT USAGE ON SEQUENCE notices_id_seq, notice_attempts_id_seq TO {{role}};
