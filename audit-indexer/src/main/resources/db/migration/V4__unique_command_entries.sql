-- A command has one timeline entry per session. The projection always kept it so (it looked the
-- command up before storing its first record); the key now says it, so that the projection can
-- take a command's first record as new without looking, and a command stored twice fails its
-- batch, which is then projected again with lookups. Event entries have no command id (NULL),
-- and NULLs do not collide in a unique index.
DROP INDEX timeline_entries_command;
CREATE UNIQUE INDEX timeline_entries_command ON timeline_entries (session_id, command_id);
