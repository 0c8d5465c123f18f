-- Duplicates found without a key per record. audit_event_ids held the key of every stored record
-- (two index entries, a uniqueness check and their undo-log entries each, the largest share of
-- the store's writes once terms became postings). A record written twice carries the same header,
-- time included, so a record later than every stored record of its session cannot be a duplicate;
-- the projection looks up only the others, in the session's chunks that span their time: each
-- chunk now has the earliest and the latest header time of its records. audit_event_ids is no
-- longer written; it keeps the keys of the records stored before this version, and is still
-- looked up for them. Chunks stored before this version have no times (NULL) and match no lookup
-- by time; their records' keys are in audit_event_ids.
ALTER TABLE audit_chunks ADD COLUMN min_time_us BIGINT;
ALTER TABLE audit_chunks ADD COLUMN max_time_us BIGINT;
CREATE INDEX audit_chunks_time ON audit_chunks (session_id, max_time_us);
