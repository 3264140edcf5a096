-- Call signalling history (XEP-0353 Jingle Message Initiation), one row per Parley user ("owner") who
-- took part: when both parties are Parley users each keeps their own row, so a forged id from a third
-- party can never touch someone else's call. Rows change together with their chatapi.call event.
CREATE TABLE calls (
  seq            bigserial PRIMARY KEY,  -- history page cursor
  owner          text NOT NULL,
  id             text NOT NULL,          -- the JMI session id (a UUID when Parley proposed it)
  direction      text NOT NULL CHECK (direction IN ('in', 'out')),  -- out: the owner is the caller
  caller         text NOT NULL,          -- JID of the caller (full JID of the proposing device where known)
  callee         text NOT NULL,          -- bare JID of the callee
  peer           text NOT NULL,          -- bare JID of the other party
  options        jsonb NOT NULL,         -- CallOptions: audioOnly, roomName, roomSid, autoAccept, acceptAfter
  state          text NOT NULL CHECK (state IN ('proposed', 'ringing', 'accepted', 'ended')),
  outcome        text CHECK (outcome IN ('completed', 'declined', 'missed', 'cancelled', 'failed')),
  reason         text,                   -- free text of the decline / end (e.g. the seed's declineReason)
  condition      text,                   -- XEP-0166 reason condition (busy, decline, success, timeout, ...)
  answered_by    text,                   -- full JID of the device that accepted
  created        timestamptz NOT NULL DEFAULT now(),
  answered       timestamptz,
  ended          timestamptz,
  UNIQUE (owner, id),
  CHECK ((state = 'ended') = (outcome IS NOT NULL))
);
CREATE INDEX calls_by_owner ON calls (owner, seq);
CREATE INDEX calls_by_peer ON calls (owner, peer, seq);
-- Unanswered calls a restart left without a timer are found here (see CallEngine.sweep).
CREATE INDEX calls_unanswered ON calls (created) WHERE state IN ('proposed', 'ringing');
