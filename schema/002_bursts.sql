-- 002_bursts: microbursts (docs/ARCHITECTURE.md, Bursts), one row per burst and direction,
-- with the drops that followed it by layer and its per-tick profile.
CREATE TABLE bursts (
  host_id          INTEGER NOT NULL,
  start_ns         INTEGER NOT NULL,
  iface            TEXT NOT NULL,
  direction        TEXT NOT NULL,     -- rx | tx
  end_ns           INTEGER NOT NULL,
  peak_per_ms      REAL NOT NULL,
  packets          INTEGER NOT NULL,
  bytes            INTEGER NOT NULL,
  threshold_per_ms INTEGER NOT NULL,
  drops_total      INTEGER NOT NULL,  -- sum of `drops`
  drops            BLOB NOT NULL,     -- u64 little-endian per layer number
  profile_start_ns INTEGER NOT NULL,
  tick_ns          INTEGER NOT NULL,
  profile          BLOB NOT NULL,     -- u32 little-endian packets per tick
  profile_complete INTEGER NOT NULL,
  PRIMARY KEY (host_id, start_ns, iface, direction)
) WITHOUT ROWID;
CREATE INDEX bursts_start ON bursts (start_ns);
