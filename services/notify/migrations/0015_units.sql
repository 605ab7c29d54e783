-- The office's units as notify keeps them from the directory events (unit_registered, unit_updated):
-- who must file weekly reports (docs/REPORTS.md) and whom notices go to (`contacts`). The layout of
-- ledger's `units`, plus when the unit joined the directory (its first event's time: a unit reports
-- from the first Monday on or after it). `version` is the directory stream's version of the last
-- change applied, so a replayed older change never overwrites a newer one.
-- Databases migrated before this table existed get their units with `python -m notify.entrypoints.rebuild`.
CREATE TABLE units (
    name                text PRIMARY KEY,
    kind                text NOT NULL,
    supervising_channel text NOT NULL,
    contacts            jsonb NOT NULL,
    active              boolean NOT NULL,
    registered_at       timestamptz NOT NULL,
    version             integer NOT NULL
);
GRANT SELECT, INSERT, UPDATE, DELETE ON units TO {{role}};
