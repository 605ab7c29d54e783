-- The monthly bulletin's further figures per (lead unit, channel, month received): cases received,
-- dismissed now, and re-check outcomes (ledger/domain/figures.py). The projection keeps them from
-- here on; the rows already there are filled by a recount from the cases, with the same rules.
ALTER TABLE unit_month_figures
    ADD COLUMN received           integer NOT NULL DEFAULT 0,
    ADD COLUMN dismissed          integer NOT NULL DEFAULT 0,
    ADD COLUMN recheck_upheld     integer NOT NULL DEFAULT 0,
    ADD COLUMN recheck_overturned integer NOT NULL DEFAULT 0;

INSERT INTO unit_month_figures (lead_unit, channel, month, received, dismissed, recheck_upheld, recheck_overturned)
SELECT lead_unit, channel, date_trunc('month', received_at AT TIME ZONE 'Asia/Shanghai')::date,
       count(*), count(*) FILTER (WHERE status = 'dismissed'),
       count(*) FILTER (WHERE recheck_outcome = 'upheld'), count(*) FILTER (WHERE recheck_outcome = 'overturned')
  FROM cases WHERE lead_unit IS NOT NULL
 GROUP BY 1, 2, 3
ON CONFLICT (lead_unit, channel, month) DO UPDATE
   SET received = EXCLUDED.received, dismissed = EXCLUDED.dismissed,
       recheck_upheld = EXCLUDED.recheck_upheld, recheck_overturned = EXCLUDED.recheck_overturned;
