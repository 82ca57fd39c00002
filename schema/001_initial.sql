-- 001_initial: hosts, their series, and what they reported.
-- Layout (docs/ARCHITECTURE.md, Budgets): every batch is one row with its samples packed into a
-- blob, so the write cost is one row per host-interval however many series
-- changed; only drop-layer counter deltas (sparse: most intervals have none)
-- and settings changes get rows of their own, keyed for per-host, per-layer,
-- time-range queries.

CREATE TABLE hosts (
  id                INTEGER PRIMARY KEY,
  name              TEXT NOT NULL UNIQUE,
  boot_id           TEXT NOT NULL DEFAULT '',
  first_seen_ns     INTEGER NOT NULL,
  last_seen_ns      INTEGER NOT NULL,
  incarnation       INTEGER NOT NULL DEFAULT 0, -- u64 stored as its signed bit pattern
  last_seq          INTEGER NOT NULL DEFAULT 0,
  backend           TEXT NOT NULL DEFAULT '',
  kernel            TEXT NOT NULL DEFAULT '',
  collector_version TEXT NOT NULL DEFAULT '',
  ncpus             INTEGER NOT NULL DEFAULT 0,
  interval_ns       INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE series (
  id      INTEGER PRIMARY KEY,
  host_id INTEGER NOT NULL REFERENCES hosts(id),
  source  TEXT NOT NULL,
  device  TEXT NOT NULL,
  name    TEXT NOT NULL,
  kind    TEXT NOT NULL,              -- counter | gauge | setting
  layer   TEXT NOT NULL,              -- nic | backlog | ... | traffic | config
  overlap INTEGER NOT NULL DEFAULT 0, -- drops also counted by a more specific series
  owner   TEXT NOT NULL DEFAULT '',
  UNIQUE (host_id, source, device, name)
);

-- The ids a collector incarnation uses for its series on the wire.
CREATE TABLE series_ids (
  host_id     INTEGER NOT NULL,
  incarnation INTEGER NOT NULL,
  local_id    INTEGER NOT NULL,
  series_id   INTEGER NOT NULL,
  PRIMARY KEY (host_id, incarnation, local_id)
) WITHOUT ROWID;

-- One row per batch: the idempotency key (a resend is ignored) and every
-- sample as 24-byte little-endian records {u32 series_id, u32 flags,
-- u64 value, i64 delta}; flags bit 0 = baseline, bit 1 = reset.
CREATE TABLE batches (
  host_id     INTEGER NOT NULL,
  incarnation INTEGER NOT NULL,
  seq         INTEGER NOT NULL,
  ts_ns       INTEGER NOT NULL,
  prev_ts_ns  INTEGER NOT NULL,
  received_ns INTEGER NOT NULL,
  nsamples    INTEGER NOT NULL,
  samples     BLOB NOT NULL,
  PRIMARY KEY (host_id, incarnation, seq)
) WITHOUT ROWID;
CREATE INDEX batches_host_ts ON batches (host_id, ts_ns);

-- Non-zero deltas (and resets) of counters in drop layers, accrued over
-- (prev_ts_ns, ts_ns].
CREATE TABLE drops (
  host_id    INTEGER NOT NULL,
  layer      TEXT NOT NULL,
  ts_ns      INTEGER NOT NULL,
  series_id  INTEGER NOT NULL,
  prev_ts_ns INTEGER NOT NULL,
  delta      INTEGER NOT NULL,
  reset      INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (host_id, layer, ts_ns, series_id)
) WITHOUT ROWID;
CREATE INDEX drops_ts ON drops (ts_ns);

-- Settings (sysctls, ring sizes) when first reported and whenever they change.
CREATE TABLE settings (
  host_id   INTEGER NOT NULL,
  series_id INTEGER NOT NULL,
  ts_ns     INTEGER NOT NULL,
  value     INTEGER NOT NULL,
  PRIMARY KEY (series_id, ts_ns)
) WITHOUT ROWID;
CREATE INDEX settings_host_ts ON settings (host_id, ts_ns);
