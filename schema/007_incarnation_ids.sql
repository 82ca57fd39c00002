-- 007_incarnation_ids: a collector run's map from its wire ids to series
-- rows, as one row per run: a blob of 16-byte little-endian records
-- {u32 local_id, u8 layer, u8 kind, u16 0, i64 series_id}. series_ids had a
-- row per series and run, so every collector restart wrote hundreds of rows
-- per host; it is still read for runs stored before this migration.
CREATE TABLE incarnation_ids (
  host_id     INTEGER NOT NULL,
  incarnation INTEGER NOT NULL,
  ids         BLOB NOT NULL,
  PRIMARY KEY (host_id, incarnation)
) WITHOUT ROWID;
