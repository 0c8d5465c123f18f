-- Delegation chains (RFC 8693): a delegated session's originator (the person, the token's subject)
-- and current actor (the agent, the session's subject), for search by originator and by actor;
-- NULL in a session that is not delegated. The actors before the current one (a nested act) are
-- rows of session_earlier_actors: an actor filter matches the current or any earlier actor.
-- Sessions stored before this version have NULL here (the summary JSON holds no chain for them
-- either); a rebuild from the log fills both.
ALTER TABLE sessions ADD COLUMN originator VARCHAR(500);
ALTER TABLE sessions ADD COLUMN actor VARCHAR(500);
CREATE INDEX sessions_originator ON sessions (originator);
CREATE INDEX sessions_actor ON sessions (actor);

CREATE TABLE session_earlier_actors (
    session_id VARCHAR(200) NOT NULL,
    actor_name VARCHAR(500) NOT NULL,
    PRIMARY KEY (session_id, actor_name)
);
CREATE INDEX session_earlier_actors_actor ON session_earlier_actors (actor_name);
