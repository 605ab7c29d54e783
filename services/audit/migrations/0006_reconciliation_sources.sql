-- Reconciliation covers every service with an event store (intake, notify): one row per source per run.
-- `error` is set (and the counts are 0) when that source's digests could not be fetched.
ALTER TABLE reconciliations
    ADD COLUMN source text NOT NULL DEFAULT 'intake',
    ADD COLUMN error  text;
CREATE INDEX reconciliations_source ON reconciliations (source, id DESC);
