-- Monthly bulletins and quarterly disclosures (docs/BULLETINS.md): projections of the
-- notify.publication.events streams, rebuilt from the trail like every other projection. Each row
-- holds the draft's whole data as the drafted event carried it, so a rebuild shows the same text.

-- One row per publication: kind 'bulletin' (key 'YYYY-MM') or 'disclosure' (key 'YYYY-Qn').
-- `version` is the stream's version the row reflects, `revision` the version of the drafted event
-- whose data it shows; `reviews` stays empty for disclosures (they are not reviewed).
CREATE TABLE publications (
    kind         text NOT NULL CHECK (kind IN ('bulletin', 'disclosure')),
    key          text NOT NULL,
    state        text NOT NULL CHECK (state IN ('drafted', 'changes_requested', 'approved', 'published')),
    version      integer NOT NULL,
    revision     integer NOT NULL,
    data         jsonb NOT NULL,
    drafted_at   timestamptz NOT NULL,
    drafted_by   text NOT NULL,
    reviews      jsonb NOT NULL DEFAULT '[]',
    published_at timestamptz,
    published_by text,
    digest       text,
    on_time      boolean,        -- disclosures: published by their due date
    PRIMARY KEY (kind, key)
);

-- The office's scoring rules (one row; none: the defaults in notify/domain/bulletin.py).
CREATE TABLE bulletin_rules (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    rules     jsonb NOT NULL,
    version   integer NOT NULL,
    set_at    timestamptz NOT NULL,
    set_by    text NOT NULL
);

-- What the bulletin counts against a unit that only notify sees: a bulletin criticism issued by the
-- escalation ladder, an accountability record, a missed weekly report. One row per event (its id), so
-- a redelivered event is counted once; `month` is the first day of the month it counts in.
CREATE TABLE bulletin_marks (
    event_id text PRIMARY KEY,
    kind     text NOT NULL CHECK (kind IN ('criticism', 'accountability', 'weekly_missed')),
    unit     text NOT NULL,
    month    date NOT NULL,
    entry    jsonb NOT NULL          -- the criticism list's entry (catalogue.CriticismEntry), or the week
);
CREATE INDEX bulletin_marks_by_month ON bulletin_marks (month, unit);

GRANT SELECT, INSERT, UPDATE, DELETE ON publications, bulletin_rules, bulletin_marks TO {{role}};
