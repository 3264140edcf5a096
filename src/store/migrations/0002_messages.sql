-- Chat history, per Parley user ("owner"): 1:1 messages both ways and room messages.
-- Rows are written together with their SSE event (same transaction), so history and replay agree.
CREATE TABLE messages (
  id             bigserial PRIMARY KEY,
  owner          text NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('chat', 'normal', 'groupchat')),
  direction      text NOT NULL CHECK (direction IN ('in', 'out')),
  peer           text NOT NULL,          -- bare JID of the other party, or the room's bare JID
  nick           text,                   -- groupchat: the sender's nick in the room
  from_jid       text NOT NULL,
  to_jid         text NOT NULL,
  body           text,
  subject        text,
  data           jsonb,                  -- the sender's JSON, carried as ofchat's `data`
  message_id     text,                   -- the stanza's id attribute
  stanza_id      text,                   -- XEP-0359 id the archive (user's or room's) assigned
  event_id       bigint REFERENCES events (id),
  sent_at        timestamptz NOT NULL DEFAULT now(),
  delivered_at   timestamptz,            -- outgoing: XEP-0184 receipt arrived
  displayed_at   timestamptz,            -- outgoing: XEP-0333 displayed arrived; incoming: the user read it
  search         tsvector GENERATED ALWAYS AS (to_tsvector('simple', coalesce(body, ''))) STORED
);
-- The same archived message arriving live, as a carbon and again from MAM is stored once.
CREATE UNIQUE INDEX messages_stanza_id ON messages (owner, peer, stanza_id) WHERE stanza_id IS NOT NULL;
CREATE UNIQUE INDEX messages_chat_message_id ON messages (owner, peer, direction, message_id)
  WHERE message_id IS NOT NULL AND kind <> 'groupchat';
CREATE INDEX messages_by_owner_time ON messages (owner, sent_at, id);
CREATE INDEX messages_by_peer ON messages (owner, peer, id);
CREATE INDEX messages_unread ON messages (owner, peer) WHERE direction = 'in' AND displayed_at IS NULL AND kind <> 'groupchat';
CREATE INDEX messages_search ON messages USING gin (search);
