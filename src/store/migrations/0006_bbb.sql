-- BigBlueButton chat bridge (src/bbb) and the signed callback outbox (src/callbacks).

-- One row per bridged chat, from startChat to its end. Ended rows stay as history; a meeting id may be
-- bridged again later (a new row). The callback secret is sealed with a key derived from PARLEY_SECRET.
CREATE TABLE bbb_meetings (
  id                  bigserial PRIMARY KEY,
  registered_id       text NOT NULL,          -- the id the API caller used (internal or external)
  external_id         text,
  internal_id         text,                   -- <sha1(external)>-<createdMs>, as Redis events carry it
  api_version         smallint NOT NULL CHECK (api_version IN (1, 2)),
  chat_user           text NOT NULL,          -- display name (or extId) of the BBB user Parley posts as (2.x)
  bridge_user_id      text,                   -- that user's internal id while they are in the meeting
  callback_uri        text,
  callback_secret_enc text,
  callback_id         text,                   -- v2: the chat_id the callback receiver knows this chat by
  room_jid            text NOT NULL,
  started_at          timestamptz NOT NULL DEFAULT now(),
  ended_at            timestamptz,
  end_reason          text
);
CREATE UNIQUE INDEX bbb_meetings_live_id ON bbb_meetings (registered_id) WHERE ended_at IS NULL;
CREATE UNIQUE INDEX bbb_meetings_live_internal ON bbb_meetings (internal_id) WHERE ended_at IS NULL AND internal_id IS NOT NULL;

-- BBB participants seen in a bridged meeting, so their room occupants come back after a restart.
CREATE TABLE bbb_participants (
  meeting     bigint NOT NULL REFERENCES bbb_meetings (id) ON DELETE CASCADE,
  user_id     text NOT NULL,
  name        text NOT NULL,
  joined_at   timestamptz NOT NULL DEFAULT now(),
  left_at     timestamptz,
  PRIMARY KEY (meeting, user_id)
);

-- Every message the bridge forwarded, whichever side it came from.
CREATE TABLE bbb_messages (
  id              bigserial PRIMARY KEY,
  meeting         bigint NOT NULL REFERENCES bbb_meetings (id) ON DELETE CASCADE,
  origin          text NOT NULL CHECK (origin IN ('bbb', 'xmpp', 'api')),
  sender_id       text,                   -- BBB user id (bbb), occupant nick's room JID (xmpp)
  sender_name     text NOT NULL,
  message         text NOT NULL,
  bbb_message_id  text,                   -- GroupChatMsgToUser.id: the same broadcast is stored once
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX bbb_messages_bbb_id ON bbb_messages (meeting, bbb_message_id) WHERE bbb_message_id IS NOT NULL;
CREATE INDEX bbb_messages_by_meeting ON bbb_messages (meeting, id);

-- Signed HTTP callbacks, written in the same transaction as the event that caused them and delivered
-- in id order per ordering_key (one in flight per key). The body is signed at each attempt (BBB-Chat
-- checksums are only valid for seconds); the idempotency key is fixed. A failing callback is retried
-- until give_up_at (the retry horizon after it was queued), then it is 'dead' until an admin replays it.
-- A replay (the admin API, or `parley callbacks replay`: status 'pending', dead_at NULL, attempts 0)
-- gets a fresh horizon from its next attempt.
CREATE TABLE callback_outbox (
  id               bigserial PRIMARY KEY,
  ordering_key     text NOT NULL,
  url              text NOT NULL,
  scheme           text NOT NULL,          -- how to sign: 'bbb-v1' | 'rcp'
  salt             text NOT NULL,          -- the call name / RCP salt the signature covers
  params           json NOT NULL,          -- json, not jsonb: BBB-Chat v1 signs the keys in this order
  secret_enc       text,                   -- cleared once delivered
  idempotency_key  text NOT NULL UNIQUE,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  give_up_at       timestamptz,            -- NULL after a replay: the next attempt sets it
  lease_until      timestamptz,            -- an attempt is in flight until then (crash: it expires)
  leased_by        text,                   -- instance id, so a restarted instance frees its own leases at once
  last_status      integer,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  delivered_at     timestamptz,
  dead_at          timestamptz
);
CREATE INDEX callback_outbox_pending ON callback_outbox (ordering_key, id) WHERE status = 'pending';
CREATE INDEX callback_outbox_dead ON callback_outbox (id) WHERE status = 'dead';
