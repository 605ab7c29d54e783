-- ledger's projection of cases (the 台账). Written only by ledger's consumer; rebuilt from events.
CREATE TABLE cases (
    case_id      text PRIMARY KEY,
    status       text NOT NULL,
    channel      text NOT NULL,
    category     text NOT NULL,
    description  text NOT NULL,
    subject_unit text NOT NULL,
    priority     text NOT NULL,
    location     jsonb,
    anonymous    boolean NOT NULL,
    received_at  timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      integer NOT NULL
);
-- Keyset paging runs newest first on (received_at, case_id); the filters lead each index.
CREATE INDEX cases_by_received ON cases (received_at DESC, case_id DESC);
CREATE INDEX cases_by_status ON cases (status, received_at DESC, case_id DESC);
CREATE INDEX cases_by_unit ON cases (subject_unit, received_at DESC, case_id DESC);

-- Every event of every case, for the timeline (who, when, what).
CREATE TABLE case_events (
    case_id    text NOT NULL,
    version    integer NOT NULL,
    event_id   text NOT NULL,
    type       text NOT NULL,
    time       timestamptz NOT NULL,
    actor      text NOT NULL,
    data       jsonb NOT NULL,
    PRIMARY KEY (case_id, version)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON cases, case_events TO {{role}};
