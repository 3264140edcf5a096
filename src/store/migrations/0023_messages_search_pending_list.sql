-- New rows reach the full-text GIN index through its pending list, which every keyword search reads whole
-- until a vacuum (or an insert that finds it over gin_pending_list_limit) merges it into the index. At the
-- default limit (4 MB, some 10,000 messages' words) a rare word's page took 11.6 ms after 8,000 inserts
-- instead of 3.9 ms after a vacuum (2M rows, two owners), and the benchmark's plans showed the index scan at
-- 2.1-2.5 ms instead of 0.2 ms when autovacuum had not yet run. At 256 kB the same page stayed at 3.8 ms
-- and a single-row insert cost PostgreSQL the same (161-166 µs either way, round trip included).
ALTER INDEX messages_search SET (gin_pending_list_limit = 256);
