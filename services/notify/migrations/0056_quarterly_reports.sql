-- Quarterly work reports (季度工作情况报送, docs/REPORTS.md): the projection of the quarterly-<unit>
-- streams on notify.report.events, rebuilt from the trail like every other projection, and the
-- scheduler's bookkeeping.

-- One row per unit and quarter that has a filing or a flag. `status`: filed, or missing (flagged; a
-- later filing turns it into filed, late, keeping flagged_on). `id` is the latest filing's event id
-- (what a correction names), `version` the unit's stream version last applied.
CREATE TABLE quarterly_reports (
    unit           text NOT NULL,
    quarter        text NOT NULL,
    quarter_start  date NOT NULL,
    status         text NOT NULL CHECK (status IN ('filed', 'missing')),
    id             text,
    revision       integer NOT NULL DEFAULT 0,
    summary        text,
    progress       jsonb NOT NULL DEFAULT '[]',
    self_found     jsonb NOT NULL DEFAULT '[]',
    next_steps     text,
    note           text,
    due            date,
    late           boolean,
    filed_on       date,
    first_filed_at timestamptz,
    filed_at       timestamptz,
    filed_by       text,
    flagged_on     date,
    version        integer NOT NULL,
    PRIMARY KEY (unit, quarter)
);
CREATE INDEX quarterly_reports_by_quarter ON quarterly_reports (quarter, unit);

-- The scheduler's bookkeeping, as weekly_checks: the last quarter decided for a unit, under which
-- rules and calendar, so a pass skips units already decided.
CREATE TABLE quarterly_checks (
    unit              text PRIMARY KEY,
    checked_quarter   text NOT NULL,
    basis             text NOT NULL,
    checked_at        timestamptz NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON quarterly_reports, quarterly_checks TO {{role}};
