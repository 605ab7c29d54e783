-- What the office sees of a client besides its scope (GET /v1/clients): when its keys were last
-- rotated, who revoked it and why, when it last exchanged a key for a token. Nothing here is a secret;
-- the same facts (except last use) are events on intake.client.events for the trail.
ALTER TABLE api_clients
    ADD COLUMN rotated_at    timestamptz,
    ADD COLUMN revoked_by    text,
    ADD COLUMN revoke_reason text,
    ADD COLUMN last_used_at  timestamptz;
