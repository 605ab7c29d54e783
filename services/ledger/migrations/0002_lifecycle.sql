-- The case lifecycle (交办 → 签收 → 整改/查否 → 销号, re-checks, visits, merges), the accountability
-- records and the office's directory. Additive only: 0001 is applied in existing databases.
ALTER TABLE cases
    ADD COLUMN lead_unit         text,
    ADD COLUMN cooperating_units text[] NOT NULL DEFAULT '{}',
    ADD COLUMN handling_mode     text,
    ADD COLUMN deadline          date,
    ADD COLUMN sign_for_due      date,
    ADD COLUMN assigned_at       timestamptz,
    ADD COLUMN accepted_at       timestamptz,
    ADD COLUMN sign_for_on_time  boolean,
    ADD COLUMN last_progress_at  timestamptz,
    ADD COLUMN extension_pending boolean NOT NULL DEFAULT false,
    ADD COLUMN extension_count   integer NOT NULL DEFAULT 0,
    ADD COLUMN closed_at         timestamptz,
    ADD COLUMN closed_on_time    boolean,
    ADD COLUMN rework_count      integer NOT NULL DEFAULT 0,
    ADD COLUMN reopen_count      integer NOT NULL DEFAULT 0,
    ADD COLUMN recheck_selected  boolean,
    ADD COLUMN recheck_pending   boolean NOT NULL DEFAULT false,
    ADD COLUMN recheck_outcome   text,
    ADD COLUMN satisfaction      text,
    ADD COLUMN visit_count       integer NOT NULL DEFAULT 0,
    ADD COLUMN merged_into       text,
    ADD COLUMN duplicates        text[] NOT NULL DEFAULT '{}';

-- Each list filter leads an index that continues in the keyset order, so a filtered first page and a
-- deep page are both a short index range scan instead of a sort of every matching row.
CREATE INDEX cases_by_lead_unit ON cases (lead_unit, received_at DESC, case_id DESC);
CREATE INDEX cases_by_category ON cases (category, received_at DESC, case_id DESC);
CREATE INDEX cases_by_channel ON cases (channel, received_at DESC, case_id DESC);
CREATE INDEX cases_by_cooperating ON cases USING gin (cooperating_units);
-- Only cases whose deadline is running can be overdue: a small partial index serves the overdue list,
-- the overdue filter and the per-unit overdue counts, whatever "today" is.
-- INCLUDE: the per-unit late counts read only these indexes (an index-only scan), never the cases.
CREATE INDEX cases_running_by_deadline ON cases (deadline, case_id) INCLUDE (lead_unit, channel, received_at)
    WHERE status IN ('assigned', 'in_progress', 'rectification_reported', 'dismissal_reported');
CREATE INDEX cases_awaiting_sign_for ON cases (sign_for_due, case_id) INCLUDE (lead_unit, channel, received_at)
    WHERE status = 'assigned';

-- Text search in descriptions: a trigram index makes ILIKE '%词%' an index search (CJK characters are
-- word characters for pg_trgm here). Creating an extension needs rights a production migrator may
-- lack; then the index is skipped and the same ILIKE runs unindexed, so queries never depend on it.
DO $$
DECLARE
    ext_schema text;
BEGIN
    BEGIN
        CREATE EXTENSION IF NOT EXISTS pg_trgm;
    EXCEPTION WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
        RAISE NOTICE 'pg_trgm unavailable (%): description search runs without an index', SQLERRM;
    END;
    SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    IF ext_schema IS NOT NULL THEN
        -- The operator class is named with its schema: the extension may live outside search_path.
        EXECUTE format('CREATE INDEX cases_description_trgm ON cases USING gin (description %I.gin_trgm_ops)',
                       ext_schema);
    END IF;
END
$$;

-- Per lead unit, channel and month received (China time): the sums of each case's figures
-- (ledger/domain/figures.py), kept by the projection, so unit statistics add up a few rows per unit.
CREATE TABLE unit_month_figures (
    lead_unit       text NOT NULL,
    channel         text NOT NULL,
    month           date NOT NULL,
    open            integer NOT NULL DEFAULT 0,
    closed          integer NOT NULL DEFAULT 0,
    closed_on_time  integer NOT NULL DEFAULT 0,
    signed          integer NOT NULL DEFAULT 0,
    signed_on_time  integer NOT NULL DEFAULT 0,
    rework_count    integer NOT NULL DEFAULT 0,
    extension_count integer NOT NULL DEFAULT 0,
    satisfied       integer NOT NULL DEFAULT 0,
    visited         integer NOT NULL DEFAULT 0,
    PRIMARY KEY (lead_unit, channel, month)
);

-- Accountability measures (问责), one row per record; subject of the event is the record id.
CREATE TABLE accountability (
    id          text PRIMARY KEY,
    measure     text NOT NULL,
    target_kind text NOT NULL,
    target      text NOT NULL,
    unit        text NOT NULL,
    basis_cases text[] NOT NULL,
    decided_by  text NOT NULL,
    reason      text NOT NULL,
    time        timestamptz NOT NULL
);
CREATE INDEX accountability_by_unit ON accountability (unit, time);

-- The office's directory. `version` is the directory stream's version of the last change applied,
-- so a replayed older change never overwrites a newer one.
CREATE TABLE units (
    name                text PRIMARY KEY,
    kind                text NOT NULL,
    supervising_channel text NOT NULL,
    contacts            jsonb NOT NULL,
    active              boolean NOT NULL,
    version             integer NOT NULL
);
CREATE TABLE categories (
    name    text PRIMARY KEY,
    "group" text NOT NULL,
    active  boolean NOT NULL,
    version integer NOT NULL
);
CREATE TABLE limits (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    data      jsonb NOT NULL,
    version   integer NOT NULL
);
-- Office-entered official schedules; with chinese-calendar's years they make the WorkCalendar.
CREATE TABLE calendar_years (
    year     integer PRIMARY KEY,
    holidays date[] NOT NULL,
    workdays date[] NOT NULL,
    version  integer NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON unit_month_figures, accountability, units, categories, limits, calendar_years
    TO {{role}};
