-- Files uploaded as evidence for a case (a unit's rectification report, a progress note): kept here, by
-- the write side, so a report's attachment URL always resolves for whoever may read the case. Append-only:
-- a report refers to a file by id, and its SHA-256 proves later that the bytes are the ones reported.
CREATE TABLE case_files (
    file_id      uuid PRIMARY KEY,
    case_id      text NOT NULL,
    name         text NOT NULL,
    content_type text NOT NULL,
    size         integer NOT NULL,
    sha256       text NOT NULL,
    data         bytea NOT NULL,
    uploaded_by  text NOT NULL,
    uploaded_at  timestamptz NOT NULL
);
CREATE INDEX case_files_by_case ON case_files (case_id, uploaded_at);

GRANT SELECT, INSERT ON case_files TO {{role}};
