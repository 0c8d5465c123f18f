-- The raw audit records move from a row each (audit_events) to chunks: consecutive records of one
-- session on one partition in one row (see AuditChunk), and their event ids, for de-duplication, in
-- a table keyed by the event's own time first: a record written twice carries the same header, and
-- time-ordered keys are inserted at the end of the index, where a random id's insert touched a page
-- anywhere in it (and the database rewrote most of the index every few seconds). V3 moves the stored
-- records and drops audit_events.

CREATE TABLE audit_chunks (
    session_id      VARCHAR(200) NOT NULL,
    kafka_partition INTEGER      NOT NULL,
    first_offset    BIGINT       NOT NULL,
    last_offset     BIGINT       NOT NULL,
    record_count    INTEGER      NOT NULL,
    records         ${bytes}     NOT NULL,
    PRIMARY KEY (session_id, kafka_partition, first_offset)
);

CREATE TABLE audit_event_ids (
    event_time_us BIGINT       NOT NULL,
    event_id      VARCHAR(200) NOT NULL,
    PRIMARY KEY (event_time_us, event_id)
);
