-- Sessions outlive a gateway restart: what the restarted instance needs to log each one in again and put
-- it back where it was. The user's XMPP password is kept sealed (AES-256-GCM, key derived from
-- PARLEY_SECRET) only while the session lives; NULL for accounts Parley provisioned (their password is in
-- accounts) and when PARLEY_SESSION_RESTORE=false.
ALTER TABLE sessions ADD COLUMN credential_enc text;
-- When an instance last took charge of the session (login, restore, adoption). Another instance adopts the
-- sessions of an instance that stopped beating only if none took charge of them just now, so a restarting
-- instance and a peer never both bring one back.
ALTER TABLE sessions ADD COLUMN claimed_at timestamptz NOT NULL DEFAULT now();

-- What each live session was doing that the XMPP server forgets when the connection goes (the rooms it is in,
-- the workgroups it is on duty in), by feature, so a restored session takes it up again exactly as after an
-- XMPP reconnect. Rows go with the session.
CREATE TABLE session_memory (
  stream_id     text NOT NULL REFERENCES sessions (stream_id) ON DELETE CASCADE,
  feature       text NOT NULL,
  key           text NOT NULL,
  value         jsonb NOT NULL,
  PRIMARY KEY (stream_id, feature, key)
);
