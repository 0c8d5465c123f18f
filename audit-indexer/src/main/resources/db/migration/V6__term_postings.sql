-- Terms as postings: one row per session, term and projected batch, holding the offsets of the
-- batch's commands of that session that have the term, instead of a row per command and term.
-- A command has two to four terms (its kinds, its objects with and without their schema, its
-- approval id) and every row cost H2 a row, a key in the primary key's index, a uniqueness check
-- and their undo-log entries; a batch of a busy session holds tens of commands with the same
-- terms. Readers join a posting to the timeline entries in its offset range (the entries' key)
-- and keep those its offsets list. ${offsets} is the database's array of BIGINT.
CREATE TABLE term_postings (
    term_type    CHAR(1)      NOT NULL,
    term         VARCHAR(500) NOT NULL,
    session_id   VARCHAR(200) NOT NULL,
    first_offset BIGINT       NOT NULL,
    last_offset  BIGINT       NOT NULL,
    offsets      ${offsets}   NOT NULL,
    PRIMARY KEY (term_type, term, session_id, first_offset)
);
INSERT INTO term_postings (term_type, term, session_id, first_offset, last_offset, offsets)
    SELECT term_type, term, session_id, kafka_offset, kafka_offset, ARRAY[kafka_offset] FROM command_terms;
DROP TABLE command_terms;
