-- 12345 hotline work orders on the ledger: the hotline's order number (工单编号) -> the case it became.
-- Written in the same transaction as the case's first event, so a second delivery of the same order
-- (a new webhook-id: the hotline re-dispatched it) finds the case instead of opening another one.
CREATE TABLE hotline_orders (
    order_no    text PRIMARY KEY,
    case_id     text NOT NULL UNIQUE,
    received_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON hotline_orders TO {{role}};
