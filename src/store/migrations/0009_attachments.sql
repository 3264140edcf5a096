-- Uploaded files (attachments). The bytes live in a content-addressed store (by sha256, so the same file
-- uploaded twice is kept once); a row is one upload by one user, with its own unguessable id and name.
CREATE TABLE attachments (
  id             text PRIMARY KEY,       -- 128 random bits, base64url: the file URL cannot be guessed
  owner          text NOT NULL,          -- the uploader's username
  name           text NOT NULL,          -- file name as the client gave it (sanitised)
  size           bigint NOT NULL,
  type           text NOT NULL,          -- sniffed from the content, never taken from the client
  sha256         text NOT NULL,
  url            text NOT NULL,          -- absolute URL handed out (stable even if the public URL changes later)
  thumbnail      text,                   -- sha256 of the generated thumbnail (images), if any
  created_at     timestamptz NOT NULL DEFAULT now(),
  removed_at     timestamptz             -- housekeeping removed the bytes; the row stays for history
);
CREATE INDEX attachments_by_owner ON attachments (owner, created_at);
CREATE INDEX attachments_by_sha256 ON attachments (sha256);

-- Who besides the uploader may download: a recipient (bare JID) or a room (bare JID; its members may).
CREATE TABLE attachment_grants (
  attachment_id  text NOT NULL REFERENCES attachments (id) ON DELETE CASCADE,
  grantee        text NOT NULL,
  kind           text NOT NULL CHECK (kind IN ('user', 'room')),
  PRIMARY KEY (attachment_id, grantee)
);
