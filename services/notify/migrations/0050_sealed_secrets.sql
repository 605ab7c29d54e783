-- Webhook secrets at rest are sealed (docs/CHANNELS.md "Secrets at rest"): AES-256-GCM under a data key
-- wrapped by notify's master key ZF_NOTIFY_MASTER_KEY (zfcommon.sealing), bound to the subscription's id.
-- The database, its dumps and backups hold no usable secret without that key.
--
-- SQL cannot seal (the key is not the administrator's to know): this migration only makes room. The
-- secrets of rows made before it are sealed by notify itself — its dispatcher, at every start, before
-- it signs anything (notify.adapters.subscriptions.seal_clear; a rotation seals its row first too) —
-- and their clear columns emptied. New rows never hold a clear secret.
ALTER TABLE subscriptions
    ADD COLUMN secret_sealed          bytea,
    ADD COLUMN previous_secret_sealed bytea,
    ALTER COLUMN secret DROP NOT NULL;
-- Every subscription keeps a secret: sealed, or (until notify seals it) still the clear one from before.
ALTER TABLE subscriptions ADD CONSTRAINT subscriptions_secret_kept CHECK (secret IS NOT NULL OR secret_sealed IS NOT NULL);
-- What is still clear (rows from before, until sealed): found at once by the sealer at every start.
CREATE INDEX subscriptions_clear ON subscriptions (id) WHERE secret IS NOT NULL OR previous_secret IS NOT NULL;
COMMENT ON COLUMN subscriptions.secret IS 'clear secret of a row made before migration 0050, until notify seals it';
COMMENT ON COLUMN subscriptions.previous_secret IS 'clear previous secret of a row made before migration 0050, until notify seals it';
