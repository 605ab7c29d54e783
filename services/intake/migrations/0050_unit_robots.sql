-- Units' group robots (企业微信 / 钉钉, docs/NOTICES.md "Group robots"). A robot's address is a secret: whoever
-- holds it can post to the unit's group. So it is kept here only, sealed (zfcommon.sealing: AES-256-GCM under
-- intake's master key ZF_CONTACT_KEY, bound to the row's ref), and the directory event
-- cn.zhengfeng.directory.unit_robots_set.v1 carries the ref alone. notify asks intake for the address at
-- send time. Replaced robots' rows are deleted with the change that replaces them: the old address is gone.
CREATE TABLE unit_robots (
    ref        text PRIMARY KEY,
    unit       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('wecom', 'dingtalk')),
    sealed     bytea NOT NULL,            -- {"webhook_url", "secret"?} as JSON, sealed
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX unit_robots_by_unit ON unit_robots (unit);
GRANT SELECT, INSERT, DELETE ON unit_robots TO {{role}};
