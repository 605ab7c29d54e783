-- The units an event concerns (lead, cooperating, the unit acting, the unit complained about, an
-- accountability target), so auditors can replay everything about one unit. Derived from the event
-- when it is appended (audit.domain.units); NULL on rows appended before this column existed.
ALTER TABLE trail ADD COLUMN units text[];
CREATE INDEX trail_by_units ON trail USING gin (units);
CREATE INDEX trail_by_actor ON trail (actor, seq);
CREATE INDEX trail_by_type ON trail (type, seq);
CREATE INDEX trail_by_time ON trail (event_time, seq);
