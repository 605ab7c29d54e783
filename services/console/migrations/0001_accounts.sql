-- The console owns only accounts, sessions, its office settings and what it records; it keeps no case data
-- (docs/CONSOLE.md).

-- A person who logs in. `login` is the subject of the tokens the console mints, so events name the person
-- as their actor (role:login, e.g. office:zhangsan).
CREATE TABLE accounts (
    login                text PRIMARY KEY,
    display_name         text NOT NULL,
    role                 text NOT NULL CHECK (role IN ('office', 'unit', 'auditor')),
    unit                 text,
    phone                text,
    password_hash        text,                    -- argon2id; null for an account that only signs on via SSO
    must_change_password boolean NOT NULL DEFAULT true,
    failed_attempts      integer NOT NULL DEFAULT 0,
    locked_until         timestamptz,
    disabled_at          timestamptz,
    sso_subject          text UNIQUE,             -- the identity platform's `sub`, for SSO accounts
    created_at           timestamptz NOT NULL,
    created_by           text NOT NULL,
    password_changed_at  timestamptz,
    last_login_at        timestamptz,
    CHECK (role <> 'unit' OR unit IS NOT NULL)
);

-- Server-side sessions: the signed cookie carries only the id, so logging out, disabling an account or
-- changing its password ends its sessions at once, and an idle session expires on the server.
CREATE TABLE sessions (
    id           text PRIMARY KEY,
    login        text NOT NULL REFERENCES accounts (login),
    via          text NOT NULL,                  -- password | sso
    created_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL,
    ended_at     timestamptz,
    end_reason   text
);
CREATE INDEX sessions_by_login ON sessions (login) WHERE ended_at IS NULL;

-- Settings that are the office's to choose (e.g. the yellow light's working days).
CREATE TABLE office_settings (
    name   text PRIMARY KEY,
    value  jsonb NOT NULL,
    set_by text NOT NULL,
    set_at timestamptz NOT NULL
);

-- What the console records: account changes, settings changes, logins refused and lockouts, complainant
-- reveals. Append-only (SELECT and INSERT granted; a trigger refuses the rest, even for the owner).
CREATE TABLE activity (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL,
    actor   text NOT NULL,        -- role:login of who did it, or system:console
    kind    text NOT NULL,        -- account | setting | login | reveal
    action  text NOT NULL,
    target  text NOT NULL,        -- the account, the setting, the case
    details jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX activity_by_at ON activity (at DESC, id DESC);

CREATE FUNCTION activity_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'activity is append-only';
END $$;
CREATE TRIGGER activity_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON activity
    FOR EACH STATEMENT EXECUTE FUNCTION activity_is_append_only();

GRANT SELECT, INSERT, UPDATE ON accounts TO {{role}};
GRANT SELECT, INSERT, UPDATE ON sessions TO {{role}};
GRANT SELECT, INSERT, UPDATE ON office_settings TO {{role}};
GRANT SELECT, INSERT ON activity TO {{role}};
GRANT USAGE ON SEQUENCE activity_id_seq TO {{role}};
