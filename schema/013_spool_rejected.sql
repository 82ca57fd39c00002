-- 013_spool_rejected: the messages (and their samples) of each host that
-- the aggregator refused with ACK_REJECTED, as its collector counts them
-- (cumulative, across restarts): a refused batch is lost, and says so.
ALTER TABLE hosts ADD COLUMN spool_rejected_messages INTEGER NOT NULL DEFAULT 0;
ALTER TABLE hosts ADD COLUMN spool_rejected_samples INTEGER NOT NULL DEFAULT 0;
