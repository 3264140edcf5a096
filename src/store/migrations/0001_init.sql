-- Accounts Parley provisioned itself (login with the master secret): the XMPP password is random and
-- kept encrypted (AES-256-GCM, key derived from PARLEY_SECRET) so Parley can log the user in again.
CREATE TABLE accounts (
  username       text PRIMARY KEY,
  jid            text NOT NULL UNIQUE,
  password_enc   text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);

-- One row per XMPP session Parley opened (one per user per gateway instance).
CREATE TABLE sessions (
  stream_id      text PRIMARY KEY,
  username       text NOT NULL,
  jid            text NOT NULL,
  instance_id    text NOT NULL,
  state          text NOT NULL CHECK (state IN ('online', 'reconnecting', 'offline')),
  created_at     timestamptz NOT NULL DEFAULT now(),
  ended_at       timestamptz
);
CREATE INDEX sessions_live_by_user ON sessions (username) WHERE ended_at IS NULL;

-- Bearer tokens returned by login; only a SHA-256 of the token is kept.
CREATE TABLE session_tokens (
  token_hash     bytea PRIMARY KEY,
  stream_id      text NOT NULL REFERENCES sessions (stream_id) ON DELETE CASCADE,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX session_tokens_stream ON session_tokens (stream_id);

-- Durable events: written before they are pushed; the id is the SSE `id:` and Last-Event-ID cursor.
CREATE TABLE events (
  id             bigserial PRIMARY KEY,
  username       text NOT NULL,
  name           text NOT NULL,
  payload        jsonb NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_by_user ON events (username, id);
