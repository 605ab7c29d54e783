-- The first event of every stream, by stream id: lists the streams of one kind ("inspection-…",
-- "monitoring-point-…") without reading every event. text_pattern_ops lets `stream_id LIKE 'prefix%'`
-- use the index under any database collation (the unique (stream_id, version) index serves prefix
-- matches only under the C collation). Partial: one small entry per stream, not per event.
CREATE INDEX events_stream_starts ON events (stream_id text_pattern_ops) WHERE version = 1;
