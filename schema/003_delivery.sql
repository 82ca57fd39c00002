-- 003_delivery: what each host's spool lost to its size bound (cumulative,
-- as the collector reports it) and its clock: offset to the aggregator
-- from ack timestamps, the round trip it was measured over, and what the
-- host's kernel says of its clock (adjtimex).
ALTER TABLE hosts ADD COLUMN spool_dropped_messages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hosts ADD COLUMN spool_dropped_samples INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hosts ADD COLUMN clock_ts_ns INTEGER NOT NULL DEFAULT 0;       -- when reported
ALTER TABLE hosts ADD COLUMN clock_offset_valid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hosts ADD COLUMN clock_offset_ns INTEGER NOT NULL DEFAULT 0;   -- aggregator minus host
ALTER TABLE hosts ADD COLUMN clock_rtt_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hosts ADD COLUMN clock_synced INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hosts ADD COLUMN clock_maxerror_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hosts ADD COLUMN clock_esterror_ns INTEGER NOT NULL DEFAULT 0;
