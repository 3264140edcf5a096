-- Moderation and admin monitoring (src/moderation): complaints, the admin audit log and Parley-side
-- account blocks. Reported messages are copied into the report, so deleting a message from history
-- (an admin action) never erases the evidence of a complaint about it.

CREATE TABLE moderation_reports (
  id              bigserial PRIMARY KEY,
  reporter        text NOT NULL,                 -- bare JID of the Parley user who complained
  reported_jid    text NOT NULL,                 -- bare JID of the accused
  reason          text NOT NULL CHECK (reason IN ('spam', 'abuse', 'other')),
  text            text,                          -- the reporter's own words
  messages        jsonb NOT NULL DEFAULT '[]',   -- snapshot of the reported messages (admin message view)
  blocked         boolean NOT NULL DEFAULT false, -- XEP-0191 block sent for the reporter
  server_reported boolean NOT NULL DEFAULT false, -- the server advertises XEP-0377 (urn:xmpp:reporting:1)
  status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'dismissed')),
  resolved_by     text,
  resolution      text,
  resolved_at     timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX moderation_reports_by_status ON moderation_reports (status, id);
CREATE INDEX moderation_reports_by_reported ON moderation_reports (reported_jid, id);

-- Every admin action: who (the master secret or an admin JID), what, on what, when.
CREATE TABLE moderation_audit (
  id          bigserial PRIMARY KEY,
  actor       text NOT NULL,
  action      text NOT NULL,
  target      text NOT NULL,
  details     jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX moderation_audit_by_target ON moderation_audit (target, id);

-- Parley-side ACL (what Parley enforces for requests that go through it; the XMPP account itself stays
-- usable outside Parley): 'disabled' — no login and no session (Prosody 0.12's admin_adhoc has no
-- XEP-0133 disable-user command); 'muted' — may not send 1:1 or room messages through Parley.
CREATE TABLE moderation_account_blocks (
  username    text NOT NULL,
  kind        text NOT NULL CHECK (kind IN ('disabled', 'muted')),
  reason      text,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (username, kind)
);
