-- 004_burst_clock: each burst's start on the aggregator's clock, corrected
-- by the offset its host reported in the same batch, and how uncertain that
-- correction is; incidents group bursts across hosts on this axis.
ALTER TABLE bursts ADD COLUMN corrected_start_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bursts ADD COLUMN uncertainty_ns INTEGER NOT NULL DEFAULT 0;
UPDATE bursts SET corrected_start_ns = start_ns;
CREATE INDEX bursts_corrected ON bursts (corrected_start_ns);
