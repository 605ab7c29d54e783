-- Ledger imports (台账导入, docs/CHANNELS.md): one row per committed import, and one row per spreadsheet
-- row that became a case. Both are written in the same transaction as the cases' events, so a row key
-- exists exactly when its case does; the unique key is what makes a re-import create nothing twice.
CREATE TABLE imports (
    import_id    uuid PRIMARY KEY,
    actor        text NOT NULL,
    created_at   timestamptz NOT NULL,
    file_sha256  text NOT NULL,
    filename     text,
    format       text NOT NULL CHECK (format IN ('csv', 'xlsx')),
    sheet        text,
    header_row   integer NOT NULL,
    skip_invalid boolean NOT NULL,
    counts       jsonb NOT NULL,
    rows         jsonb NOT NULL          -- per spreadsheet row: status, key, case id, errors
);
CREATE INDEX imports_file ON imports (file_sha256);

CREATE TABLE import_rows (
    row_key    text PRIMARY KEY,         -- ledger_import.row_key: the problem's identity, not the file's
    import_id  uuid NOT NULL REFERENCES imports (import_id),
    row_number integer NOT NULL,
    case_id    text NOT NULL
);
CREATE INDEX import_rows_import ON import_rows (import_id);

GRANT SELECT, INSERT ON imports TO {{role}};
GRANT SELECT, INSERT ON import_rows TO {{role}};
