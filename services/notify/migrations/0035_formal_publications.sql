-- Publications as formal documents, and interim reports over any period (docs/BULLETINS.md).

-- A published bulletin's or interim report's document data (notify/domain/document.py): its number
-- (文号), the year and sequence that number counts in, the issuer and the issue date. NULL for drafts,
-- disclosures and what was published before documents were numbered. Numbers are taken per kind and
-- year, under an advisory lock, from the highest sequence given so far (the index).
ALTER TABLE publications ADD COLUMN document jsonb;
CREATE INDEX publications_by_number ON publications (kind, ((document->>'year')::int), ((document->>'sequence')::int))
    WHERE document IS NOT NULL;

-- Interim reports (阶段性通报), key '<first day>_<last day>', follow the bulletins' lifecycle.
ALTER TABLE publications DROP CONSTRAINT publications_kind_check;
ALTER TABLE publications ADD CONSTRAINT publications_kind_check CHECK (kind IN ('bulletin', 'disclosure', 'interim'));
ALTER TABLE public_publications DROP CONSTRAINT public_publications_kind_check;
ALTER TABLE public_publications ADD CONSTRAINT public_publications_kind_check
    CHECK (kind IN ('bulletin', 'disclosure', 'interim'));
ALTER TABLE public_publications ADD COLUMN document_number text;

-- The day a mark counts on (a criticism's crossed_on, an accountability record's day, a missed week's
-- Thursday), so that a report over any period counts the marks of its days; `month` is its month.
ALTER TABLE bulletin_marks ADD COLUMN day date;
UPDATE bulletin_marks SET day = CASE WHEN kind = 'weekly_missed' THEN to_date(entry->>'week', 'IYYY-"W"IW') + 3
                                     ELSE (entry->>'day')::date END;
ALTER TABLE bulletin_marks ALTER COLUMN day SET NOT NULL;
CREATE INDEX bulletin_marks_by_day ON bulletin_marks (day, unit);
