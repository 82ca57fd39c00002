-- 018_aggregator: which aggregator stored a host's latest message (its
-- --name), so that with collectors failing over between aggregators
-- (--connect given more than once) /api/hosts says where each host reports.
-- Empty for rows no message has updated since.
ALTER TABLE hosts ADD COLUMN aggregator TEXT NOT NULL DEFAULT '';
