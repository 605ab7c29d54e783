-- The RFC 9162 Merkle tree over the trail (docs/MERKLE.md), stored as its COMPLETE subtrees only:
-- the node at (level, idx) covers leaves [idx * 2^level, (idx + 1) * 2^level); level 0 holds the
-- leaf hashes. A complete subtree never changes once its last leaf is in, so rows are written once
-- and the table is append-only, enforced as the trail is: the service's role may only SELECT and
-- INSERT, and a trigger refuses UPDATE, DELETE and TRUNCATE even for the owner. Roots and proofs for
-- any past tree size are computed from O(log n) rows (audit.adapters.tree).
CREATE TABLE merkle_nodes (
    level smallint NOT NULL CHECK (level BETWEEN 0 AND 62),
    idx   bigint   NOT NULL CHECK (idx >= 0),
    hash  bytea    NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (level, idx)
);

CREATE FUNCTION merkle_nodes_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the Merkle tree is append-only: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$;
CREATE TRIGGER merkle_nodes_append_only BEFORE UPDATE OR DELETE ON merkle_nodes
    FOR EACH ROW EXECUTE FUNCTION merkle_nodes_refuse_change();
CREATE TRIGGER merkle_nodes_no_truncate BEFORE TRUNCATE ON merkle_nodes
    FOR EACH STATEMENT EXECUTE FUNCTION merkle_nodes_refuse_change();

GRANT SELECT, INSERT ON merkle_nodes TO {{role}};
