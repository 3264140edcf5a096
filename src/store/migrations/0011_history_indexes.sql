-- History pages walk one owner's messages in event-id order (newest first, or from a cursor); without these
-- every page was a sequential scan + sort (0.5–1.4 s at 1M rows in the benchmark; ~0.1 ms with them).
CREATE INDEX messages_by_owner_event ON messages (owner, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX messages_by_owner_peer_event ON messages (owner, peer, event_id) WHERE event_id IS NOT NULL;
