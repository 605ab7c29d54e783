-- Numbered supervision letters (docs/ESCALATION.md "Numbered supervision letters"). A letter's number
-- (文号) is stored in its step event; the scheduler takes the year's next sequence from this index of
-- the store's letters, under an advisory lock held until the step commits. A rebuild restores the
-- events, and with them the numbers given, so a number is never given twice; the index is UNIQUE
-- besides, so a second letter with a number already given can never be stored.
CREATE UNIQUE INDEX events_letter_numbers ON events
    ((((payload->'data'->'document'->>'year'))::int), (((payload->'data'->'document'->>'sequence'))::int))
    WHERE type = 'cn.zhengfeng.escalation.step_issued.v1' AND payload->'data' ? 'document';

ALTER TABLE escalation_history ADD COLUMN document_number text;      -- a supervision letter's 文号
