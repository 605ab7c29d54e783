"""The hotline order index (migration 0007): which case a 12345 work order number became."""
from __future__ import annotations

import psycopg


class HotlineOrders:
    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def lock(self, order_no: str) -> None:
        """Serialise work on one order number until the transaction ends. Two deliveries of the same
        order under different webhook-ids may race: without the lock both would find no case and open
        one each, and the loser's primary-key violation would abort a transaction that already appended
        events. With it the second waits, then (a new statement, a new READ COMMITTED snapshot) finds
        the first one's case."""
        self.conn.execute("SELECT pg_advisory_xact_lock(hashtextextended('hotline_order:' || %s, 0))",
                          (order_no,))

    def case_for(self, order_no: str) -> str | None:
        row = self.conn.execute("SELECT case_id FROM hotline_orders WHERE order_no = %s", (order_no,)).fetchone()
        return row["case_id"] if row else None

    def add(self, order_no: str, case_id: str) -> None:
        self.conn.execute("INSERT INTO hotline_orders (order_no, case_id) VALUES (%s, %s)", (order_no, case_id))
