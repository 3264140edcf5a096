-- A receipt (and a read marker) finds its message by (owner, peer, direction, message_id), which
-- messages_chat_message_id holds uniquely. Until autovacuum first analyzes the table (a new install, or each
-- of the benchmark's fresh databases) the planner cannot tell that index from messages_by_peer (owner, peer,
-- id), estimates one row for both and takes the smaller: every receipt then read the whole conversation
-- (6.8 ms a batch at 400 msg/s in the benchmark, growing with each message the pair exchanged). Only room
-- reads walk one peer's rows by id (the last room stanza id), so that index now holds room rows only.
DROP INDEX messages_by_peer;
CREATE INDEX messages_room_by_peer ON messages (owner, peer, id) WHERE kind = 'groupchat';
