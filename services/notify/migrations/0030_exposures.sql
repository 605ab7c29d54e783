-- Public exposures of typical cases and what the public page lists (docs/EXPOSURE.md): projections of
-- the notify.publication.events streams, rebuilt from the trail like every other projection.

-- One row per exposure (stream exposure-<id>); `version` is the stream version the row reflects.
-- `draft` is the last redacted text (office and auditors only), `published` exactly what went out.
-- Neither ever holds what the redaction removed: the events never carry it.
CREATE TABLE exposures (
    id                  text PRIMARY KEY,
    case_id             text NOT NULL,
    state               text NOT NULL CHECK (state IN ('selected', 'redacted', 'approved', 'published', 'withdrawn')),
    version             integer NOT NULL,
    title               text NOT NULL,
    category            text NOT NULL,
    lesson              text,
    "case"              jsonb NOT NULL,
    selected_by         text NOT NULL,
    selected_at         timestamptz NOT NULL,
    draft               jsonb,
    removed             jsonb NOT NULL DEFAULT '[]',
    complainant_checked boolean,
    revision            integer,
    redacted_by         text,
    redacted_at         timestamptz,
    approved_revision   integer,
    approved_by         text,
    approved_at         timestamptz,
    published           jsonb,
    digest              text,
    published_at        timestamptz,
    published_by        text,
    withdrawn_at        timestamptz,
    withdrawn_by        text,
    withdraw_reason     text
);
CREATE INDEX exposures_by_case ON exposures (case_id);
CREATE INDEX exposures_published ON exposures (published_at DESC) WHERE state = 'published';

-- Published bulletins and disclosures as the public page lists them, from their published events
-- (the bulletins' own tables belong to that feature; this list needs only the title and the date).
CREATE TABLE public_publications (
    stream       text PRIMARY KEY,          -- bulletin-<YYYY-MM> or disclosure-<YYYY>-Q<n>
    kind         text NOT NULL CHECK (kind IN ('bulletin', 'disclosure')),
    key          text NOT NULL,             -- the month or quarter
    title        text NOT NULL,
    digest       text NOT NULL,
    published_at timestamptz NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON exposures, public_publications TO {{role}};
