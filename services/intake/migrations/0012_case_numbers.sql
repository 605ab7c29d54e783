-- Human case numbers (案件编号, e.g. ZF-2026-000123): sequential per office and year (the receipt's year
-- in China), decided inside the receipt's transaction and stored in its case.received event
-- (docs/DECISIONS.md "Case numbers").
--
-- One SEQUENCE per year, so receipts never wait for each other: nextval() is not transactional, which is
-- exactly why it does not serialise them, and also why a receipt that rolls back leaves a gap. A year's
-- sequence is created by the first receipt of that year; intake's role owns nothing and may not create
-- it, hence this SECURITY DEFINER function (owned by the migrator, with a fixed search_path).
CREATE FUNCTION next_case_serial(year integer) RETURNS bigint
    LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
    seq text := format('intake.case_serial_%s', year);
BEGIN
    IF year < 2000 OR year > 2200 THEN
        RAISE EXCEPTION 'no case numbers for the year %', year USING ERRCODE = 'invalid_parameter_value';
    END IF;
    BEGIN
        RETURN nextval(seq::regclass);
    EXCEPTION WHEN undefined_table THEN
        NULL;        -- the year's first receipt: create its sequence below
    END;
    BEGIN
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %s', seq);
    EXCEPTION WHEN unique_violation OR duplicate_table THEN
        -- Another receipt created it in a transaction that has committed meanwhile (ours waited on the
        -- catalogue's unique index until then): use theirs. Only a year's very first receipts ever wait.
        NULL;
    END;
    RETURN nextval(seq::regclass);
END
$$;
REVOKE ALL ON FUNCTION next_case_serial(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION next_case_serial(integer) TO {{role}};

-- Every number given, written in the same transaction as the event that gives it (case.received, or
-- case.numbered for a case received before numbers existed; intake.adapters.case_numbers). The unique
-- keys are the database's own proof that no number is given twice and no case numbered twice; the
-- one-off numbering of earlier cases finds the cases without a row here.
CREATE TABLE case_numbers (
    case_number text PRIMARY KEY,
    case_id     text NOT NULL UNIQUE
);
GRANT SELECT, INSERT ON case_numbers TO {{role}};

-- Open311 records carry the number as an extension field (docs/OPEN311.md).
ALTER TABLE open311_requests ADD COLUMN case_number text;
