-- Gateway instances sharing this database (several Parleys behind one load balancer): where each one
-- answers for the sessions it holds, and whether it is alive.
CREATE TABLE instances (
  id            text PRIMARY KEY,
  url           text NOT NULL,
  heartbeat_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sessions_live_by_stream ON sessions (stream_id) WHERE ended_at IS NULL;
