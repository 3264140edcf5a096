-- Expert queues (XEP-0142 workgroups, Openfire Fastpath semantics): the workgroups and their routing
-- settings, who may serve in them, who is on duty, every request with its place and fate, every offer.
-- The workgroup component keeps no state Postgres does not have: a restart resumes from these rows.

CREATE TABLE workgroups (
  name                text PRIMARY KEY,          -- the localpart of <name>@workgroup.<domain>
  description         text,
  offer_timeout_ms    integer NOT NULL DEFAULT 20000 CHECK (offer_timeout_ms > 0),
  request_timeout_ms  integer NOT NULL DEFAULT 240000 CHECK (request_timeout_ms > 0),
  max_chats           integer NOT NULL DEFAULT 4 CHECK (max_chats > 0),
  rejection_memory_ms integer NOT NULL DEFAULT 20000 CHECK (rejection_memory_ms >= 0),
  welcome_text        text,
  closing_text        text,
  created_at          timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE workgroup_members (
  workgroup      text NOT NULL REFERENCES workgroups (name) ON DELETE CASCADE,
  jid            text NOT NULL,                  -- bare JID of an agent allowed to go on duty
  PRIMARY KEY (workgroup, jid)
);
CREATE INDEX workgroup_members_by_jid ON workgroup_members (jid);

-- Agents on duty, from their last agent presence. A row whose resource went away unnoticed (the
-- gateway was down) is removed when an offer to it bounces.
CREATE TABLE workgroup_agents (
  workgroup      text NOT NULL REFERENCES workgroups (name) ON DELETE CASCADE,
  jid            text NOT NULL,                  -- bare JID
  full_jid       text NOT NULL,                  -- where offers go
  show           text NOT NULL CHECK (show IN ('chat', 'available', 'away', 'xa', 'dnd')),
  max_chats      integer CHECK (max_chats > 0),  -- the agent's own limit (agent-status), else the workgroup's
  since          timestamptz NOT NULL,           -- went on duty: the round-robin order
  PRIMARY KEY (workgroup, jid)
);
CREATE INDEX workgroup_agents_by_full_jid ON workgroup_agents (full_jid);

-- Requests for help. No foreign key to workgroups: a visitor can still read how their request ended
-- after the workgroup was deleted.
CREATE TABLE workgroup_requests (
  id               text PRIMARY KEY,
  seq              bigserial NOT NULL UNIQUE,     -- queue order, kept across restarts
  workgroup        text NOT NULL,
  kind             text NOT NULL CHECK (kind IN ('rest', 'xmpp')),
  user_jid         text NOT NULL,                 -- xmpp: the user's full JID; rest: visitor-<id>@workgroup.<domain>
  user_id          text NOT NULL,                 -- ofchat's userID (rest), or the username metadata (xmpp)
  email            text,
  question         text,
  metadata         jsonb NOT NULL DEFAULT '{}',
  token_hash       bytea UNIQUE,                  -- rest visitors: SHA-256 of their bearer token
  status           text NOT NULL CHECK (status IN ('queued', 'offered', 'accepted', 'routed', 'ended', 'canceled', 'timeout', 'failed')),
  initial_position integer NOT NULL,             -- place at joining: feeds the waiting-time estimate
  agent_jid        text,                          -- bare JID of the agent who accepted
  room             text,                          -- the assistance room's bare JID
  visitor_joined   boolean NOT NULL DEFAULT false, -- rest visitors: their puppet occupant is in the room
  end_reason       text,
  joined_at        timestamptz NOT NULL,
  accepted_at      timestamptz,
  ended_at         timestamptz
);
CREATE INDEX workgroup_requests_waiting ON workgroup_requests (workgroup, seq) WHERE status IN ('queued', 'offered');
CREATE INDEX workgroup_requests_chats ON workgroup_requests (workgroup, agent_jid) WHERE status IN ('accepted', 'routed');
CREATE INDEX workgroup_requests_served ON workgroup_requests (workgroup, accepted_at) WHERE accepted_at IS NOT NULL;
CREATE INDEX workgroup_requests_by_user_id ON workgroup_requests (user_id, seq);
CREATE INDEX workgroup_requests_by_room ON workgroup_requests (room) WHERE room IS NOT NULL;
-- One open request per visitor name (rest) and per user session and workgroup (xmpp: XEP-0142 409).
CREATE UNIQUE INDEX workgroup_requests_one_per_visitor ON workgroup_requests (user_id)
  WHERE kind = 'rest' AND status IN ('queued', 'offered', 'accepted', 'routed');
CREATE UNIQUE INDEX workgroup_requests_one_per_user ON workgroup_requests (workgroup, user_jid)
  WHERE kind = 'xmpp' AND status IN ('queued', 'offered');

-- Every offer made to an agent and how it was answered; rejected and timed-out ones are the
-- rejection memory.
CREATE TABLE workgroup_offers (
  id             text PRIMARY KEY,
  request_id     text NOT NULL REFERENCES workgroup_requests (id) ON DELETE CASCADE,
  workgroup      text NOT NULL,
  agent_jid      text NOT NULL,                  -- bare JID
  agent_full     text NOT NULL,
  status         text NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected', 'timeout', 'revoked', 'failed')),
  reason         text,
  offered_at     timestamptz NOT NULL,
  expires_at     timestamptz NOT NULL,
  answered_at    timestamptz
);
CREATE UNIQUE INDEX workgroup_offers_one_pending ON workgroup_offers (request_id) WHERE status = 'pending';
CREATE INDEX workgroup_offers_by_workgroup ON workgroup_offers (workgroup, status, answered_at);
