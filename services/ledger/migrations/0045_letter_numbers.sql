-- A supervision letter's number (文号), as notify's step event gives it (docs/ESCALATION.md
-- "Numbered supervision letters"); NULL for other steps, stops, and letters from before numbering.
ALTER TABLE escalation_history ADD COLUMN document_number text;
