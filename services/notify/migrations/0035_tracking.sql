-- The public "track my case" box (/public/track) finds a case by the receipt number its complainant was given:
-- the case id, the case number once cases carry one, or the 12345 hotline's order number. These indexes keep
-- that lookup one index probe each, however many cases notify watches.
CREATE INDEX watched_by_origin_ref ON watched_cases ((origin->>'ref')) WHERE origin IS NOT NULL;
CREATE INDEX watched_by_case_number ON watched_cases ((view->>'case_number')) WHERE view ? 'case_number';
