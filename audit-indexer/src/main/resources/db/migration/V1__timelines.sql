-- The audit indexer's store: session timelines projected from gatehouse.audit, the raw records
-- they came from, and the next offset of every partition (written in the same transaction).
-- ${text} and ${bytes} are the large text and binary types of the database (H2: CLOB, BLOB;
-- PostgreSQL: TEXT, BYTEA).

CREATE TABLE indexer_offsets (
    topic           VARCHAR(249) NOT NULL,
    kafka_partition INTEGER      NOT NULL,
    next_offset     BIGINT       NOT NULL,
    PRIMARY KEY (topic, kafka_partition)
);

-- Every record of the audit topic that belongs to a session, byte for byte (export, verification).
CREATE TABLE audit_events (
    kafka_partition INTEGER      NOT NULL,
    kafka_offset    BIGINT       NOT NULL,
    event_id        VARCHAR(200) NOT NULL,
    session_id      VARCHAR(200) NOT NULL,
    event_type      VARCHAR(100) NOT NULL,
    event_time_us   BIGINT       NOT NULL,
    record_value    ${bytes}     NOT NULL,
    PRIMARY KEY (kafka_partition, kafka_offset),
    CONSTRAINT audit_events_event_id UNIQUE (event_id)
);
CREATE INDEX audit_events_session ON audit_events (session_id, kafka_partition, kafka_offset);

CREATE TABLE sessions (
    session_id      VARCHAR(200) NOT NULL PRIMARY KEY,
    kafka_partition INTEGER      NOT NULL,
    status          VARCHAR(20)  NOT NULL,
    started_us      BIGINT       NOT NULL,
    ended_us        BIGINT,
    last_event_us   BIGINT       NOT NULL,
    edge_id         VARCHAR(200),
    subject         VARCHAR(500),
    issuer          VARCHAR(500),
    ci_repository   VARCHAR(500),
    ci_commit       VARCHAR(200),
    connection_name VARCHAR(200),
    summary         ${text}      NOT NULL,
    -- evidence: the running hash chain over the session's record values; whether a SessionSealed
    -- was read back (sealed) and whether this store already had one written (seal_requested)
    chain_head      VARCHAR(64)  NOT NULL,
    chain_events    BIGINT       NOT NULL,
    sealed          BOOLEAN      NOT NULL,
    seal_requested  BOOLEAN      NOT NULL
);
CREATE INDEX sessions_started ON sessions (started_us, session_id);
CREATE INDEX sessions_status ON sessions (status);
CREATE INDEX sessions_subject ON sessions (subject);
CREATE INDEX sessions_commit ON sessions (ci_commit);

CREATE TABLE session_groups (
    session_id VARCHAR(200) NOT NULL,
    group_name VARCHAR(500) NOT NULL,
    PRIMARY KEY (session_id, group_name)
);
CREATE INDEX session_groups_group ON session_groups (group_name);

-- Timeline entries; a command's row is rewritten as its decision, approval and outcome arrive.
CREATE TABLE timeline_entries (
    session_id      VARCHAR(200) NOT NULL,
    kafka_offset    BIGINT       NOT NULL,
    entry_type      VARCHAR(10)  NOT NULL,
    at_us           BIGINT       NOT NULL,
    command_id      VARCHAR(200),
    approval_id     VARCHAR(200),
    verdict         VARCHAR(40),
    sql_lower       ${text},
    body            ${text}      NOT NULL,
    PRIMARY KEY (session_id, kafka_offset)
);
CREATE INDEX timeline_entries_command ON timeline_entries (session_id, command_id);
CREATE INDEX timeline_entries_approval ON timeline_entries (session_id, approval_id);
CREATE INDEX timeline_entries_at ON timeline_entries (at_us);

-- What a command touches, for search: term_type 'k' = statement kind ("CREATE_DATABASE"),
-- 'o' = object ("name" and "schema.name", lower case).
CREATE TABLE command_terms (
    session_id   VARCHAR(200) NOT NULL,
    kafka_offset BIGINT       NOT NULL,
    term_type    CHAR(1)      NOT NULL,
    term         VARCHAR(500) NOT NULL,
    PRIMARY KEY (session_id, kafka_offset, term_type, term)
);
CREATE INDEX command_terms_term ON command_terms (term_type, term);
