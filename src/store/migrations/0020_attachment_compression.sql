-- When compression was last tried on a file (compressed, or kept because the result was not smaller or
-- did not verify), so `parley attachments compress --all` works through each file once.
ALTER TABLE attachments ADD COLUMN compress_tried_at timestamptz;
CREATE INDEX attachments_compressible ON attachments (created_at)
  WHERE removed_at IS NULL AND compress_tried_at IS NULL AND (type LIKE 'video/%' OR type LIKE 'audio/%');
