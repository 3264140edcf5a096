-- Sessions outlive a gateway restart: what the restarted instance needs to log each one in again and put
-- it back where it was. The user's XMPP password is kept sealed (AES-256-GCM, key derived from
-- PARLEY_SECRET) only while the session lives; NULL for accounts Parley provisioned (their password is in
-- accounts) and when PARLEY_SESSION_RESTORE=false.
ALTER TABLE sessions ADD COLUMN credential_enc text;

-- The rooms each live session is in, so a restored session enters them again (and fills the gap from the
-- room archive) exactly as after an XMPP reconnect.
CREATE TABLE session_rooms (
  stream_id     text NOT NULL REFERENCES sessions (stream_id) ON DELETE CASCADE,
  room          text NOT NULL,
  nick          text NOT NULL,
  password_enc  text,
  max_stanzas   integer NOT NULL,
  PRIMARY KEY (stream_id, room)
);
