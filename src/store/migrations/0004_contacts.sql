-- Presence subscription requests a user has received and not yet answered (RFC 6121 §3.1.3).
-- The XMPP server re-sends every pending request on each login; a row here means the user has already
-- been told (one durable chatapi.presence event), so a re-sent request does not become a new event.
-- Deleted when the user approves or denies through Parley, or the requester withdraws.
CREATE TABLE subscription_requests (
  username       text NOT NULL,
  jid            text NOT NULL,          -- bare JID of the requester
  nick           text,                   -- XEP-0172 nickname the request carried
  status         text,                   -- the request's <status/> text
  event_id       bigint REFERENCES events (id) ON DELETE SET NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (username, jid)
);
