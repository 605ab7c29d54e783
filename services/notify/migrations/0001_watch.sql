-- notify's own projection of cases: what it needs to decide on reminders, escalations and bulletins.
CREATE TABLE watched_cases (
    case_id      text PRIMARY KEY,
    status       text NOT NULL,
    channel      text NOT NULL,
    subject_unit text NOT NULL,
    priority     text NOT NULL,
    received_at  timestamptz NOT NULL,
    version      integer NOT NULL
);
CREATE INDEX watched_by_status ON watched_cases (status, received_at);
GRANT SELECT, INSERT, UPDATE, DELETE ON watched_cases TO {{role}};
