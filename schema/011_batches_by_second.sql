-- 011_batches_by_second: one index on the batches, ordered by the second
-- they were taken in, then host, instead of three (host, incarnation, seq),
-- (host, ts) and (ts).
-- Batches arrive interleaved from thousands of hosts. In an index led by
-- the host, every batch of a commit lands on a page of its own host, so a
-- commit of K batches rewrote K index pages per such index: measured with
-- 10,000 hosts at 1 s, the two host-led indexes and the hosts rows wrote
-- several times the batches' own bytes and the aggregator fell behind.
-- Led by the second, a commit's entries all fall in the current second's
-- few dozen pages. A host's batches in a range are one seek per second
-- (store_internal.h: STORE_HOST_RANGE). A resend carries the batch's own
-- bytes, hence its second, so the key still makes it a duplicate.
ALTER TABLE batches ADD COLUMN second INTEGER GENERATED ALWAYS AS (ts_ns / 1000000000) VIRTUAL;
DROP INDEX batches_key;
DROP INDEX batches_host_ts;
DROP INDEX batches_ts;
CREATE UNIQUE INDEX batches_at ON batches (second, host_id, incarnation, seq);
