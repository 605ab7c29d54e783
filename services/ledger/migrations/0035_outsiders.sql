-- What units, channels and the public read of a case (zfcommon.outsiders, docs/PRIVACY.md): `summary`
-- in place of the description, `redacted` the received event's masks of location and origin, and
-- `received_by` the actor that recorded the receipt (a channel token reads the cases it submitted).
-- Rows projected before this migration keep summary and redacted NULL: they are masked by the patterns
-- when read, and `q` finds them for outsiders only once the ledger is rebuilt from the trail
-- (`python -m ledger.entrypoints.rebuild`): outsiders search the summary, never the description.
ALTER TABLE cases
    ADD COLUMN summary     text,
    ADD COLUMN redacted    jsonb,
    ADD COLUMN received_by text;

UPDATE cases c SET received_by = e.actor FROM case_events e WHERE e.case_id = c.case_id AND e.version = 1;

CREATE INDEX cases_by_received_by ON cases (received_by, received_at DESC, case_id DESC);

-- The summary is searched as the description is (0002): by trigrams when pg_trgm is there.
DO $$
DECLARE
    ext_schema text;
BEGIN
    SELECT n.nspname INTO ext_schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
     WHERE e.extname = 'pg_trgm';
    IF ext_schema IS NOT NULL THEN
        EXECUTE format('CREATE INDEX cases_summary_trgm ON cases USING gin (summary %I.gin_trgm_ops)', ext_schema);
    END IF;
END
$$;
