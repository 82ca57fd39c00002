-- 016_counts_expired: what retention deleted of each host's drops and bursts,
-- summed, so that the counters /metrics/fleet starts from at a restart (what
-- is stored, plus this) never go down once old rows expire.
CREATE TABLE drops_expired (
  host_id INTEGER NOT NULL,
  layer   TEXT NOT NULL,
  delta   INTEGER NOT NULL, -- the positive deltas of its non-overlapping rows
  PRIMARY KEY (host_id, layer)
) WITHOUT ROWID;
CREATE TABLE bursts_expired (
  host_id   INTEGER NOT NULL,
  iface     TEXT NOT NULL,
  direction TEXT NOT NULL,
  n         INTEGER NOT NULL,
  PRIMARY KEY (host_id, iface, direction)
) WITHOUT ROWID;
