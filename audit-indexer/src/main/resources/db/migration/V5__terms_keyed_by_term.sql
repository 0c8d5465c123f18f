-- Fewer index entries per command (each one is written, and written again at commit, by H2).
-- command_terms was keyed by command, with a second index by term; every read of it names the
-- term (a search by kind or object, the EXISTS filters), so it is now keyed by term first and the
-- second index goes. A command's approval id becomes one of its terms (type 'a'), written only when
-- a command has an approval, instead of an index over timeline_entries.approval_id, which held an
-- entry for every command and event. The approval_id column stays, unindexed.
CREATE TABLE command_terms_by_term (
    term_type    CHAR(1)      NOT NULL,
    term         VARCHAR(500) NOT NULL,
    session_id   VARCHAR(200) NOT NULL,
    kafka_offset BIGINT       NOT NULL,
    PRIMARY KEY (term_type, term, session_id, kafka_offset)
);
INSERT INTO command_terms_by_term (term_type, term, session_id, kafka_offset)
    SELECT term_type, term, session_id, kafka_offset FROM command_terms;
INSERT INTO command_terms_by_term (term_type, term, session_id, kafka_offset)
    SELECT 'a', approval_id, session_id, kafka_offset FROM timeline_entries
    WHERE entry_type = 'command' AND approval_id IS NOT NULL;
DROP TABLE command_terms;
ALTER TABLE command_terms_by_term RENAME TO command_terms;
DROP INDEX timeline_entries_approval;
