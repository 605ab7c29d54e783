-- Per-client request counters for zfcommon.ratelimit, in every service's own schema: one row per API
-- client, updated in place by one UPSERT per request of that client.
-- UNLOGGED: counters are worth no WAL write per request; after a crash PostgreSQL empties the table,
-- which only gives clients a fresh window. fillfactor leaves room on each page so the updates (which
-- never change the key) stay heap-only and the index does not bloat.
CREATE UNLOGGED TABLE rate_limits (
    client_id    text PRIMARY KEY,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL
) WITH (fillfactor = 50);

GRANT SELECT, INSERT, UPDATE ON rate_limits TO {{role}};
