-- The campaign machinery (docs/CAMPAIGNS.md): cases in a campaign, dismissed duplicate suggestions,
-- campaigns, tasks, key projects and their stages, look-backs; every event of those streams as its
-- timeline. Rows carry their stream's version: a redelivered or older event never undoes a newer one.
ALTER TABLE cases ADD COLUMN campaign_id text, ADD COLUMN dismissed_duplicates text[] NOT NULL DEFAULT '{}';
CREATE INDEX cases_by_campaign ON cases (campaign_id, received_at DESC, case_id DESC) WHERE campaign_id IS NOT NULL;

CREATE TABLE campaigns (
    campaign_id text PRIMARY KEY,
    name        text NOT NULL,
    lead_office text NOT NULL,
    starts_on   date NOT NULL,
    ends_on     date NOT NULL,
    phases      jsonb NOT NULL,
    categories  text[] NOT NULL,
    description text,
    launched_at timestamptz NOT NULL,
    version     integer NOT NULL
);

CREATE TABLE tasks (
    task_id                text PRIMARY KEY,
    campaign_id            text,
    phase                  integer,
    number                 text,
    title                  text NOT NULL,
    target                 text NOT NULL,
    lead_unit              text NOT NULL,
    cooperating_units      text[] NOT NULL,
    responsible_leader     text NOT NULL,
    measures               text NOT NULL,
    monitor                text NOT NULL,
    deadline               date NOT NULL,
    handling_mode          text NOT NULL,
    milestones             jsonb NOT NULL,       -- [{name, due, reached_at, on_time}]
    status                 text NOT NULL,
    issued_at              timestamptz NOT NULL,
    last_progress_at       timestamptz,
    completion_reported_at timestamptz,
    completion_on_time     boolean,
    signed_off_at          timestamptz,
    signed_off_on_time     boolean,
    sent_back_count        integer NOT NULL,
    origin                 jsonb,
    updated_at             timestamptz NOT NULL,
    version                integer NOT NULL
);
CREATE INDEX tasks_by_campaign ON tasks (campaign_id, deadline, task_id);
CREATE INDEX tasks_by_lead_unit ON tasks (lead_unit, deadline, task_id);
CREATE INDEX tasks_by_cooperating_unit ON tasks USING gin (cooperating_units);
CREATE INDEX tasks_running ON tasks (deadline, task_id) WHERE status = 'in_progress';

CREATE TABLE projects (
    project_id      text PRIMARY KEY,
    name            text NOT NULL,
    owner           text NOT NULL,
    project_type    text NOT NULL,
    campaign_id     text,
    handling_mode   text NOT NULL,
    case_grace_days integer NOT NULL,
    case_category   text NOT NULL,
    note            text,
    units           text[] NOT NULL,           -- the stages' approving units (who may read it)
    registered_at   timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    version         integer NOT NULL
);
CREATE INDEX projects_by_unit ON projects USING gin (units);

-- One row per stage of a project, in the order of its type: the approval-time figures read these.
CREATE TABLE project_stages (
    project_id   text NOT NULL REFERENCES projects (project_id),
    position     integer NOT NULL,
    stage        text NOT NULL,
    name         text NOT NULL,
    unit         text NOT NULL,
    limit_days   integer NOT NULL,
    entered_on   date,
    due          date,
    completed_on date,
    working_days integer,
    on_time      boolean,
    case_id      text,
    PRIMARY KEY (project_id, stage)
);
CREATE INDEX project_stages_by_unit ON project_stages (unit, name);

CREATE TABLE lookbacks (
    lookback_id text PRIMARY KEY,
    title       text NOT NULL,
    filters     jsonb NOT NULL,
    ratio       double precision NOT NULL,
    nonce       text NOT NULL,
    seed        text NOT NULL,
    drawn_at    timestamptz NOT NULL,
    version     integer NOT NULL
);

-- Every candidate of every look-back, drawn or not, with its finding once recorded.
CREATE TABLE lookback_items (
    lookback_id text NOT NULL REFERENCES lookbacks (lookback_id),
    kind        text NOT NULL CHECK (kind IN ('case', 'task')),
    item_id     text NOT NULL,
    unit        text NOT NULL,
    campaign_id text,
    category    text,
    closed_on   date NOT NULL,
    draw        double precision NOT NULL,
    selected    boolean NOT NULL,
    outcome     text CHECK (outcome IN ('held', 'rebounded')),
    note        text,
    case_id     text,
    found_at    timestamptz,
    PRIMARY KEY (lookback_id, item_id)
);
CREATE INDEX lookback_findings ON lookback_items (unit, found_at) WHERE outcome IS NOT NULL;

-- The timeline of every campaign, task, project and look-back stream.
CREATE TABLE plan_events (
    stream_id text NOT NULL,
    version   integer NOT NULL,
    event_id  text NOT NULL,
    type      text NOT NULL,
    time      timestamptz NOT NULL,
    actor     text NOT NULL,
    data      jsonb NOT NULL,
    PRIMARY KEY (stream_id, version)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON campaigns, tasks, projects, project_stages, lookbacks, lookback_items,
    plan_events TO {{role}};
