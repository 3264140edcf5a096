-- Site sync (src/sync, docs/site-sync.md): chats between two Parley deployments over an intermittent link.

-- Messages waiting for the other side, in the order they were written. On a site every row waits for the
-- host (peer = the host's URL); on the host a row waits for the site it is addressed to (peer = that site's
-- domain), which collects it when it calls. `id` is the message's stable id across both deployments.
CREATE TABLE sync_outbox (
  seq        bigserial PRIMARY KEY,
  peer       text NOT NULL,
  id         text NOT NULL UNIQUE,
  payload    jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  sent_at    timestamptz
);
CREATE INDEX sync_outbox_pending ON sync_outbox (peer, seq) WHERE sent_at IS NULL;

-- Every message received from the other side, by its stable id: a message sent again (a lost answer, a
-- retried call) finds its row and is not delivered twice. delivered_at: handed to the local XMPP server.
CREATE TABLE sync_inbox (
  id           text PRIMARY KEY,
  origin       text NOT NULL,
  payload      jsonb NOT NULL,
  received_at  timestamptz NOT NULL DEFAULT now(),
  delivered_at timestamptz
);
CREATE INDEX sync_inbox_undelivered ON sync_inbox (received_at) WHERE delivered_at IS NULL;

-- Files received from the other side (the id they have there) → the attachment stored here, so each is
-- stored once however often it is sent.
CREATE TABLE sync_files (
  origin      text NOT NULL,
  ref         text NOT NULL,
  local_id    text NOT NULL,
  attachment  jsonb NOT NULL,
  PRIMARY KEY (origin, ref)
);

-- Settings: on the host the document it publishes (scope 'published'), on a site the one it applied
-- (scope 'applied'); version only grows.
CREATE TABLE sync_settings (
  scope      text PRIMARY KEY,
  version    bigint NOT NULL,
  settings   jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- A site's cursor in the host's outbox for it (the last seq it has stored), and when it last reached the host.
CREATE TABLE sync_cursor (
  peer         text PRIMARY KEY,
  after_seq    bigint NOT NULL DEFAULT 0,
  contacted_at timestamptz
);
