-- SMS appraisal after enforcement and supervision (执法监督短信评议, docs/APPRAISALS.md).
--
-- `enforcement_actions` is projected from the enforcement.recorded and .rated events (rebuilt from
-- the trail like every projection). It never holds the party's number: `phone_masked` (138****1234)
-- and `phone_key`, its keyed hash, as the events carry them.
CREATE TABLE enforcement_actions (
    action_id     uuid PRIMARY KEY,
    unit          text NOT NULL,
    kind          text NOT NULL,
    section       text,
    matter        text NOT NULL,
    party         text,
    performed_on  date NOT NULL,
    officers      jsonb NOT NULL,
    phone_masked  text NOT NULL,
    phone_key     text NOT NULL,
    recorded_at   timestamptz NOT NULL,
    recorded_by   text NOT NULL,
    grade         text,
    rated_at      timestamptz,
    counted_in    text[],
    version       integer NOT NULL
);
CREATE INDEX enforcement_actions_by_day ON enforcement_actions (performed_on, unit);
CREATE INDEX enforcement_actions_by_unit ON enforcement_actions (unit, recorded_at DESC);

-- The party's number, sealed (ZF_NOTIFY_MASTER_KEY, bound to the action), only for as long as the
-- rating request may be answered: deleted at the rating, or by the scheduler once `expires_at` passes.
-- Not in any event, so not rebuilt: a rebuilt notify asks nobody again.
CREATE TABLE enforcement_contacts (
    action_id   uuid PRIMARY KEY,
    phone       bytea NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX enforcement_contacts_expiry ON enforcement_contacts (expires_at);

-- Each unit's enforcement and supervision staff as published for the public (公述民评 公示), from the
-- latest roster_published event of its stream roster-<unit>.
CREATE TABLE enforcement_rosters (
    unit          text PRIMARY KEY,
    staff         jsonb NOT NULL,
    version       integer NOT NULL,
    published_at  timestamptz NOT NULL,
    published_by  text NOT NULL
);

GRANT SELECT, INSERT, UPDATE, DELETE ON enforcement_actions, enforcement_contacts, enforcement_rosters TO {{role}};

-- The party of an action hears from notify by SMS: an audience of its own (recipient 'inspected:<action id>').
ALTER TABLE notices DROP CONSTRAINT notices_audience_check;
ALTER TABLE notices ADD CONSTRAINT notices_audience_check CHECK (audience IN ('unit', 'complainant', 'inspected'));
