-- 019_raw_blocks: raw history packed per host and ten minutes
-- (aggregator/rawpack.h: column-wise, then zstd), under 2 bytes a sample
-- where the batches rows take ~11. A batch is still stored and
-- acknowledged as a batches row; the upkeep packs a host's ten minutes
-- (STORE_RAW_BLOCK_S) into one row here once their minutes are rolled up,
-- deleting the rows it packed in the same transaction. Its progress is
-- rollup_state's row of step_s 0, (bucket, next host) as the rollups'.
-- Databases from before are packed the same way, oldest first, a bounded
-- step at a time.
CREATE TABLE raw_blocks (
  id       INTEGER PRIMARY KEY,
  host_id  INTEGER NOT NULL,
  ts_ns    INTEGER NOT NULL, -- the block's start
  nbatches INTEGER NOT NULL,
  nsamples INTEGER NOT NULL,
  block    BLOB NOT NULL
);
-- A host's range (reads, resends), and expiry in time order.
CREATE UNIQUE INDEX raw_blocks_key ON raw_blocks (host_id, ts_ns);
CREATE INDEX raw_blocks_ts ON raw_blocks (ts_ns);
-- Blocks behind that progress with batches rows to pack in (late batches,
-- once merged into their rollups): packed together by the upkeep, not one
-- repacking of the block per batch (a spool of ten minutes would repack
-- it 600 times).
CREATE TABLE raw_late (
  host_id INTEGER NOT NULL,
  ts_ns   INTEGER NOT NULL, -- the block's start
  PRIMARY KEY (host_id, ts_ns)
) WITHOUT ROWID;
