-- The planner picks a keyword page's plan from its estimate of the word's matches: few, and it sorts the
-- GIN index's matches (1,000 heap visits for a word in 1 of 1,000 messages, ~2.5 ms at 1M rows); many, and
-- it walks the owner's messages newest first until a page is full. A word is estimated from the most
-- common lexemes ANALYZE keeps; one it did not keep gets 0.5 % when the kept ones are all frequent. At the
-- default statistics target (100) the benchmark's 1-in-1,000 word fell out of that list on 3 of 22 ANALYZEs
-- of its 1M rows: 5,000 matches estimated, a walk of 51,000 rows (20 ms) instead of the sort; a word no
-- message holds (a typo) would have walked the owner's whole history. At 300 it was kept on 30 of 30
-- (estimates 778-1,278; a typo 439-561), and ANALYZE reads a sample three times larger (~1.2 s instead of
-- ~0.6 s at 1M rows; 1000 held the estimates within 880-1,100 for ~5 s per ANALYZE).
ALTER TABLE messages ALTER COLUMN search SET STATISTICS 300;
ANALYZE messages;
