-- Signed tree heads (docs/MERKLE.md): kept forever, append-only like the trail. Every head names the
-- key that signed it; keys are kept too, so a rotated key still verifies the heads it signed.
CREATE FUNCTION append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;

CREATE TABLE signing_keys (
    key_id     text PRIMARY KEY,            -- C2SP signed-note key hash, hex
    origin     text NOT NULL,
    public_key bytea NOT NULL CHECK (octet_length(public_key) = 32),
    first_used timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE tree_heads (
    timestamp_ms bigint PRIMARY KEY,         -- strictly increasing
    tree_size    bigint NOT NULL CHECK (tree_size >= 0),
    root         bytea NOT NULL CHECK (octet_length(root) = 32),
    key_id       text NOT NULL REFERENCES signing_keys (key_id),
    signature    bytea NOT NULL,
    checkpoint   text NOT NULL               -- the signed note, exactly as signed
);
CREATE INDEX tree_heads_by_size ON tree_heads (tree_size);

CREATE TRIGGER signing_keys_append_only BEFORE UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER tree_heads_append_only BEFORE UPDATE OR DELETE ON tree_heads
    FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER tree_heads_no_truncate BEFORE TRUNCATE ON tree_heads
    FOR EACH STATEMENT EXECUTE FUNCTION append_only();

GRANT SELECT, INSERT ON signing_keys, tree_heads TO {{role}};

-- Inclusion proofs are asked for by leaf hash (RFC 6962 get-proof-by-hash).
CREATE INDEX merkle_leaves_by_hash ON merkle_nodes (hash) WHERE level = 0;
