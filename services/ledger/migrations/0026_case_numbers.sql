-- Case numbers (案件编号, e.g. ZF-2026-000123), from case.received or, for a case received before
-- numbers, case.numbered. The index serves both the exact filter (case_number=) and the text search
-- `q`, which matches a whole number beside the description's text (the planner ORs the two indexes).
ALTER TABLE cases ADD COLUMN case_number text;
CREATE INDEX cases_by_number ON cases (case_number);
