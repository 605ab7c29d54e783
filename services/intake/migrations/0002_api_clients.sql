-- Department integrations and third-party clients (Open311 included): one row per client the office
-- issued, scoped to a unit or a channel. Keys are never stored, only their SHA-256: a leaked table
-- cannot be replayed against the API. A client may hold two live keys while it rotates.
CREATE TABLE api_clients (
    client_id       text PRIMARY KEY,
    department      text NOT NULL,
    role            text NOT NULL CHECK (role IN ('unit', 'channel')),
    unit            text,
    channel         text,
    rate_per_minute integer NOT NULL CHECK (rate_per_minute > 0),
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    revoked_at      timestamptz,
    CHECK ((role = 'unit') = (unit IS NOT NULL) AND (role = 'channel') = (channel IS NOT NULL))
);

CREATE TABLE api_keys (
    key_hash   bytea PRIMARY KEY,          -- SHA-256 of the whole key
    client_id  text NOT NULL REFERENCES api_clients (client_id),
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz                 -- set on the old key when the client rotates
);
CREATE INDEX api_keys_client ON api_keys (client_id);

GRANT SELECT, INSERT, UPDATE ON api_clients TO {{role}};
GRANT SELECT, INSERT, UPDATE ON api_keys TO {{role}};
