-- Results of comparing the trail with intake's event store (audit.service_layer.reconcile).
CREATE TABLE reconciliations (
    id         bigserial PRIMARY KEY,
    ran_at     timestamptz NOT NULL DEFAULT now(),
    until      timestamptz NOT NULL,
    streams    integer NOT NULL,
    missing    integer NOT NULL,      -- events intake holds that the trail lacks
    extra      integer NOT NULL,      -- events the trail holds that intake does not
    differing  integer NOT NULL,      -- streams with the same count but other events or order
    report     jsonb NOT NULL
);
GRANT SELECT, INSERT ON reconciliations TO {{role}};
GRANT USAGE ON SEQUENCE reconciliations_id_seq TO {{role}};
