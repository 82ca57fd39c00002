-- 010_drops_overlap: each drop row says whether its series overlaps a more
-- specific one (the series' flag, copied), and the time index covers what
-- fleet-wide queries over a range read, so "the top droppers of a day"
-- reads the index alone instead of a row and a series per delta (650 ms
-- for a day of 1,000 hosts before, budget 500 ms).
ALTER TABLE drops ADD COLUMN overlap INTEGER NOT NULL DEFAULT 0;
UPDATE drops SET overlap = (SELECT overlap FROM series WHERE series.id = drops.series_id);
DROP INDEX drops_ts;
CREATE INDEX drops_ts ON drops (ts_ns, overlap, host_id, layer, delta);
