-- Notices to units' group robots, WeCom (企业微信) and DingTalk (钉钉) (docs/NOTICES.md "Group robots").
-- `robots`: the kinds of robot the unit's notices go to, from cn.zhengfeng.directory.unit_robots_set.v1
-- (the addresses stay sealed in intake; the sender asks for them at send time). Its own version column:
-- a robots change and a contacts change of one unit are ordered on the directory stream, but either may
-- be replayed on its own, and one must never hold the other back.
ALTER TABLE units
    ADD COLUMN robots         text[] NOT NULL DEFAULT '{}',
    ADD COLUMN robots_version integer NOT NULL DEFAULT 0;

ALTER TABLE notices DROP CONSTRAINT notices_channel_check;
ALTER TABLE notices ADD CONSTRAINT notices_channel_check CHECK (channel IN ('email', 'sms', 'wecom', 'dingtalk'));
