-- Task table imports (docs/CAMPAIGNS.md) share the ledger import's tables: `kind` says which table an
-- import was; import_rows.case_id then holds the task a row became (row keys of the two kinds differ
-- by their own prefix, so they never meet).
ALTER TABLE imports ADD COLUMN kind text NOT NULL DEFAULT 'ledger' CHECK (kind IN ('ledger', 'tasks'));
