-- 007_incarnation_ids: a collector run's map from its wire ids to series
-- rows, as one row per run: a blob of 16-byte little-endian records
-- {u32 local_id, u8 layer, u8 kind, u16 0, i64 series_id}. series_ids had a
-- row per series and run, so every collector restart wrote hundreds of rows
-- per host; it is still read for runs stored before this migration.
-- defs_hash: a hash of the definitions of the run's first batch when ids
-- holds exactly those (0 otherwise). A collector restarted on the same host
-- defines the same series again: a run with the same hash gives the map in
-- one lookup instead of one per series.
CREATE TABLE incarnation_ids (
  host_id     INTEGER NOT NULL,
  incarnation INTEGER NOT NULL,
  ids         BLOB NOT NULL,
  defs_hash   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (host_id, incarnation)
) WITHOUT ROWID;
CREATE INDEX incarnation_ids_hash ON incarnation_ids (host_id, defs_hash);
