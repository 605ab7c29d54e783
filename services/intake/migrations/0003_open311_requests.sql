-- Open311 GET requests (docs/OPEN311.md) asks for cases by status, service and time, which the event
-- store cannot answer. One row per case, written by the command that appends the case's events and in
-- the same transaction (intake.adapters.request_index, called from handlers._append), so the index is
-- never behind or ahead of the store, whatever channel the case came from.
--
-- A database that already held cases before this migration: run `python -m intake.entrypoints.reindex`
-- once (it replays the store; safe to repeat and to run while intake serves requests).
CREATE TABLE open311_requests (
    service_request_id text PRIMARY KEY,                 -- the case id
    status             text NOT NULL CHECK (status IN ('open', 'closed')),
    case_status        text NOT NULL,                    -- the lifecycle state (docs/STATE-MACHINE.md)
    merged_into        text,
    category           text NOT NULL,
    service_code       text NOT NULL,
    lead_unit          text,                             -- agency_responsible
    requested_at       timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    deadline           date,                             -- expected_datetime
    address            text,
    address_id         text,
    lat                double precision,
    lon                double precision,
    media_url          text,
    version            integer NOT NULL                  -- the case's stream version it reflects
);
CREATE INDEX open311_requests_requested ON open311_requests (requested_at DESC);
CREATE INDEX open311_requests_service ON open311_requests (service_code, requested_at DESC);

GRANT SELECT, INSERT, UPDATE ON open311_requests TO {{role}};
