-- Weekly reports (docs/REPORTS.md): projections of the notify.report.events streams, rebuilt from the
-- trail like every other projection, and the scheduler's bookkeeping.

-- Since when a unit has been active: set when it joins, and again when it is reactivated after a
-- deactivation. A unit reports from the first Monday on or after it (never for weeks it was away).
ALTER TABLE units ADD COLUMN active_since timestamptz;
UPDATE units SET active_since = registered_at WHERE active;

-- One row per unit and week that has a filing or a flag. `status`: filed (a weekly report), zero (a
-- zero report) or missing (flagged; a later filing turns it into filed/zero, late, keeping flagged_on).
-- `id` is the latest filing's event id (what a correction names), `version` the unit's stream version
-- last applied (a replayed older event never undoes a newer one).
CREATE TABLE weekly_reports (
    unit           text NOT NULL,
    week           text NOT NULL,
    week_start     date NOT NULL,
    status         text NOT NULL CHECK (status IN ('filed', 'zero', 'missing')),
    id             text,
    revision       integer NOT NULL DEFAULT 0,
    progress       jsonb NOT NULL DEFAULT '[]',
    self_found     jsonb NOT NULL DEFAULT '[]',
    note           text,
    due            date,
    late           boolean,
    filed_on       date,
    first_filed_at timestamptz,
    filed_at       timestamptz,
    filed_by       text,
    flagged_on     date,
    version        integer NOT NULL,
    PRIMARY KEY (unit, week)
);
CREATE INDEX weekly_reports_by_week ON weekly_reports (week, unit);
CREATE INDEX weekly_reports_by_status ON weekly_reports (status, week DESC);

-- The escalation steps repeated misses earned, one row per event.
CREATE TABLE weekly_escalations (
    unit               text NOT NULL,
    version            integer NOT NULL,
    week               text NOT NULL,
    step               text NOT NULL,
    consecutive_missed integer NOT NULL,
    threshold          integer NOT NULL,
    event_id           text NOT NULL,
    time               timestamptz NOT NULL,
    PRIMARY KEY (unit, version)
);

-- Each month's spot-check draw of zero reporters (零报告抽查) with its inputs, and what each check found.
CREATE TABLE spot_checks (
    month      text PRIMARY KEY,
    ratio      double precision NOT NULL,
    nonce      text NOT NULL,
    seed       text NOT NULL,
    weeks      jsonb NOT NULL,
    candidates jsonb NOT NULL,
    draws      jsonb NOT NULL,
    selected   jsonb NOT NULL,
    drawn_at   timestamptz NOT NULL,
    drawn_by   text NOT NULL,
    event_id   text NOT NULL
);
CREATE TABLE spot_check_results (
    month       text NOT NULL,
    unit        text NOT NULL,
    finding     text NOT NULL,
    note        text,
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL,
    event_id    text NOT NULL,
    PRIMARY KEY (month, unit)
);

-- The scheduler's bookkeeping, not a projection (a rebuild starts it afresh, and the scheduler then
-- looks at every unit once more, deciding from the unit's stream): the latest week decided for the
-- unit, the rules and calendar it was decided with (basis), and a calendar gap that stopped it.
CREATE TABLE weekly_checks (
    unit         text PRIMARY KEY,
    checked_week text NOT NULL,
    basis        text NOT NULL,
    checked_at   timestamptz NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON weekly_reports, weekly_escalations, spot_checks, spot_check_results,
    weekly_checks TO {{role}};
