-- Tasks and project stages on the escalation ladder (docs/CAMPAIGNS.md, zfcommon.ladderviews): what the
-- scheduler reads of each subject in the shape it reads of a case (`view`), kept from intake's task and
-- project events. `state` holds a task's fold; `version` the subject's stream version last applied.
CREATE TABLE escalation_subjects (
    subject_id text PRIMARY KEY,          -- a task id, or <project id>/<stage key>
    kind       text NOT NULL CHECK (kind IN ('task', 'stage')),
    state      jsonb,
    view       jsonb NOT NULL,
    version    integer NOT NULL
);
CREATE INDEX escalation_subjects_by_project ON escalation_subjects ((view->>'project_id')) WHERE kind = 'stage';
GRANT SELECT, INSERT, UPDATE, DELETE ON escalation_subjects TO {{role}};
