-- Escalation ladders (docs/ESCALATION.md): the steps notify issued on each case, the office's
-- calendar the ladders count working days on, and the scheduler's bookkeeping.

-- The office's working-day calendar, kept from the directory events by zfcommon.officecalendar (the
-- same layout as ledger's tables of the same names).
CREATE TABLE calendar_years (
    year     integer PRIMARY KEY,
    holidays date[] NOT NULL,
    workdays date[] NOT NULL,
    version  integer NOT NULL
);
CREATE TABLE limits (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    data      jsonb NOT NULL,
    version   integer NOT NULL
);

-- Each ladder's latest round per case, projected from notify's own escalation events (so a rebuild
-- from the trail gives the same rows). `step` is the last step issued in the round; a stopped round
-- keeps it, with the reason it stopped.
CREATE TABLE escalation_ladders (
    case_id              text NOT NULL,
    ladder               text NOT NULL CHECK (ladder IN ('deadline', 'sign_for')),
    round                integer NOT NULL,
    state                text NOT NULL CHECK (state IN ('running', 'stopped')),
    step                 text NOT NULL,
    unit                 text NOT NULL,
    due                  date NOT NULL,
    handling_mode        text NOT NULL,
    working_days_overdue integer NOT NULL,     -- when the last step was issued
    stop_reason          text,
    updated_at           timestamptz NOT NULL,
    version              integer NOT NULL,     -- the case's escalation stream version last applied
    PRIMARY KEY (case_id, ladder)
);
CREATE INDEX escalation_ladders_by_unit ON escalation_ladders (unit, updated_at DESC, case_id);
CREATE INDEX escalation_ladders_by_step ON escalation_ladders (step, updated_at DESC, case_id);
CREATE INDEX escalation_ladders_recent ON escalation_ladders (updated_at DESC, case_id);

-- Every escalation event of every case in stream order: the steps and the stops.
CREATE TABLE escalation_history (
    case_id              text NOT NULL,
    version              integer NOT NULL,
    event_id             text NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('step', 'stop')),
    ladder               text NOT NULL,
    round                integer NOT NULL,
    step                 text NOT NULL,        -- the step issued, or the last step of the stopped round
    reason               text,                 -- stops only
    unit                 text,                 -- steps only, like the fields below
    due                  date,
    working_days_overdue integer,
    threshold            integer,
    handling_mode        text,
    crossed_on           date,
    time                 timestamptz NOT NULL,
    actor                text NOT NULL,
    PRIMARY KEY (case_id, version)
);

-- The scheduler's bookkeeping, not a projection (a rebuild starts it afresh and the scheduler looks
-- at every case once). The consumer raises seen_version with every case event; the scheduler records
-- the case version it decided on, the thresholds and calendar it decided with (basis) and the next
-- day a threshold is crossed. Two columns, not a "dirty" flag: a case event applied while the
-- scheduler decides raises seen_version past the version it records, so no change is ever missed.
CREATE TABLE escalation_checks (
    case_id         text PRIMARY KEY,
    seen_version    integer NOT NULL,
    checked_version integer NOT NULL DEFAULT 0,
    basis           text,
    next_check      date,
    gap             text,                      -- a year the calendar lacks, named
    settled         boolean NOT NULL DEFAULT false,   -- nothing is due by the clock
    checked_at      timestamptz
);
CREATE INDEX escalation_checks_changed ON escalation_checks (case_id) WHERE checked_version < seen_version;
CREATE INDEX escalation_checks_waiting ON escalation_checks (next_check) WHERE NOT settled;
INSERT INTO escalation_checks (case_id, seen_version) SELECT case_id, version FROM watched_cases;

GRANT SELECT, INSERT, UPDATE, DELETE ON calendar_years, limits, escalation_ladders, escalation_history,
    escalation_checks TO {{role}};
