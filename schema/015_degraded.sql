-- 015_degraded: the features a host's collector runs without, for want of
-- a capability (an unprivileged collector cannot name the owners of other
-- users' sockets, or load eBPF), as its last hello said, one a line (each is
-- text without control characters), so /api/hosts can list them.
ALTER TABLE hosts ADD COLUMN degraded TEXT NOT NULL DEFAULT '';
