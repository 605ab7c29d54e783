-- Democratic appraisals (民主评议, docs/APPRAISALS.md): the round and its results are a publication
-- (kind 'appraisal', key the period) in `publications`; each questionnaire entered is a row here,
-- projected from its ballot_recorded event (rebuilt from the trail like every projection).
CREATE TABLE appraisal_ballots (
    period      text NOT NULL,
    ballot_no   text NOT NULL,
    grp         text NOT NULL,
    ratings     jsonb NOT NULL,
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL,
    event_id    text NOT NULL,
    PRIMARY KEY (period, ballot_no)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON appraisal_ballots TO {{role}};

-- An appraisal round is a publication from its opening on, before anything is drafted.
ALTER TABLE publications ALTER COLUMN drafted_at DROP NOT NULL, ALTER COLUMN drafted_by DROP NOT NULL;
ALTER TABLE publications DROP CONSTRAINT publications_kind_check;
ALTER TABLE publications ADD CONSTRAINT publications_kind_check
    CHECK (kind IN ('bulletin', 'disclosure', 'interim', 'appraisal'));
ALTER TABLE publications DROP CONSTRAINT publications_state_check;
ALTER TABLE publications ADD CONSTRAINT publications_state_check
    CHECK (state IN ('opened', 'drafted', 'changes_requested', 'approved', 'published'));
ALTER TABLE public_publications DROP CONSTRAINT public_publications_kind_check;
ALTER TABLE public_publications ADD CONSTRAINT public_publications_kind_check
    CHECK (kind IN ('bulletin', 'disclosure', 'interim', 'appraisal'));
