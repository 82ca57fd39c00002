-- 009_rollups: per host, every series summed over a minute (step_s 60,
-- from the batches) and over an hour (3600, from the minutes), packed like
-- batches.samples with the bucket's last value and the sum of its deltas.
-- Raw batches are kept for the raw retention; rollups, drops and bursts for
-- the longer rollup retention (store_retention.c).
CREATE TABLE rollups (
  id       INTEGER PRIMARY KEY,
  host_id  INTEGER NOT NULL,
  step_s   INTEGER NOT NULL,
  ts_ns    INTEGER NOT NULL, -- the bucket's start
  nsamples INTEGER NOT NULL,
  samples  BLOB NOT NULL
);
CREATE UNIQUE INDEX rollups_key ON rollups (host_id, step_s, ts_ns);
CREATE INDEX rollups_ts ON rollups (ts_ns);
-- Progress: every bucket before bucket_ns is rolled up, and in bucket_ns
-- every host below next_host.
CREATE TABLE rollup_state (
  step_s    INTEGER PRIMARY KEY,
  bucket_ns INTEGER NOT NULL,
  next_host INTEGER NOT NULL
);
-- Batches stored behind that progress (a spool resent after an outage), to
-- be merged into their rollups.
CREATE TABLE rollup_late (batch_id INTEGER PRIMARY KEY);
-- Expiry walks the batches in time order.
CREATE INDEX batches_ts ON batches (ts_ns);
