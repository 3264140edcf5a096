-- Organisation presence (src/groups): an organisation (group) with its sites, and its members with the
-- profile fields an administrator's screen shows. Presence itself lives on the XMPP server (subscriptions
-- of Parley's admin JID to each member), never here.
CREATE TABLE groups (
  id             text PRIMARY KEY,
  name           text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE group_sites (
  group_id       text NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  id             text NOT NULL,
  name           text NOT NULL,
  PRIMARY KEY (group_id, id)
);

CREATE TABLE group_members (
  group_id       text NOT NULL REFERENCES groups (id) ON DELETE CASCADE,
  username       text NOT NULL,
  name           text,
  avatar         text,
  site           text,
  role           text NOT NULL DEFAULT 'member' CHECK (role IN ('member', 'admin')),
  added_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_id, username),
  -- a site that is removed leaves its members in the organisation, without a site
  FOREIGN KEY (group_id, site) REFERENCES group_sites (group_id, id) ON DELETE SET NULL (site)
);
CREATE INDEX group_members_by_user ON group_members (username);
