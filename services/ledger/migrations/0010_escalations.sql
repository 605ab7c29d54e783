-- Escalation ladders from notify's events (notify.escalation.events, docs/ESCALATION.md): each case's
-- ladders and every step and stop, kept by zfcommon.escalationview in the same layout as notify's
-- tables. Beside the case, never in case_events: that table holds intake's stream, keyed by its versions.
CREATE TABLE escalation_ladders (
    case_id              text NOT NULL,
    ladder               text NOT NULL CHECK (ladder IN ('deadline', 'sign_for')),
    round                integer NOT NULL,
    state                text NOT NULL CHECK (state IN ('running', 'stopped')),
    step                 text NOT NULL,
    unit                 text NOT NULL,
    due                  date NOT NULL,
    handling_mode        text NOT NULL,
    working_days_overdue integer NOT NULL,
    stop_reason          text,
    updated_at           timestamptz NOT NULL,
    version              integer NOT NULL,
    PRIMARY KEY (case_id, ladder)
);

CREATE TABLE escalation_history (
    case_id              text NOT NULL,
    version              integer NOT NULL,
    event_id             text NOT NULL,
    kind                 text NOT NULL CHECK (kind IN ('step', 'stop')),
    ladder               text NOT NULL,
    round                integer NOT NULL,
    step                 text NOT NULL,
    reason               text,
    unit                 text,
    due                  date,
    working_days_overdue integer,
    threshold            integer,
    handling_mode        text,
    crossed_on           date,
    time                 timestamptz NOT NULL,
    actor                text NOT NULL,
    PRIMARY KEY (case_id, version)
);

GRANT SELECT, INSERT, UPDATE, DELETE ON escalation_ladders, escalation_history TO {{role}};
