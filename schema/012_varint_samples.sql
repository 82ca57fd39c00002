-- 012_varint_samples: samples packed as varints (store_internal.h:
-- STORE_PACK_VARINT), about 10 bytes a sample instead of 24: the raw
-- batches were ~180 MB per host and day at 1 s. Rows written before keep
-- their 24-byte records (packing 0) and are read as such.
ALTER TABLE batches ADD COLUMN packing INTEGER NOT NULL DEFAULT 0;
ALTER TABLE rollups ADD COLUMN packing INTEGER NOT NULL DEFAULT 0;
