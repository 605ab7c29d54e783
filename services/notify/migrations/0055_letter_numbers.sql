-- Numbered supervision letters (docs/ESCALATION.md "Numbered supervision letters"). A letter's number
-- (文号) is stored in its event (a ladder's step, or a weekly-report escalation); the scheduler takes the
-- year's next sequence from this index of the store's letters, under an advisory lock held until the
-- letter commits. A rebuild restores the events, and with them the numbers given, so a number is never
-- given twice; the index is UNIQUE besides, so a second letter with a number already given can never
-- be stored.
CREATE UNIQUE INDEX events_letter_numbers ON events
    ((((payload->'data'->'document'->>'year'))::int), (((payload->'data'->'document'->>'sequence'))::int))
    WHERE type IN ('cn.zhengfeng.escalation.step_issued.v1', 'cn.zhengfeng.report.escalated.v1')
      AND payload->'data' ? 'document';

ALTER TABLE escalation_history ADD COLUMN document_number text;      -- a supervision letter's 文号
