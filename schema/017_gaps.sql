-- 017_gaps: the sequence gaps of the collectors' probes (--probe), one row
-- per run of missing numbers. Times are the host's clock, as its drops' are:
-- a gap is weighed against the same host's counters (diagnosis), never
-- across hosts. Sequence numbers are the u64 bit pattern in an INTEGER.
CREATE TABLE gaps (
  host_id   INTEGER NOT NULL,
  start_ns  INTEGER NOT NULL,  -- arrival of the datagram before the hole
  grp       TEXT NOT NULL,     -- the probe's group or address ("group" is SQL's)
  port      INTEGER NOT NULL,
  first_seq INTEGER NOT NULL,
  end_ns    INTEGER NOT NULL,  -- arrival of the datagram after it
  missing   INTEGER NOT NULL,  -- last_seq - first_seq + 1
  last_seq  INTEGER NOT NULL
);
CREATE UNIQUE INDEX gaps_key ON gaps (host_id, start_ns, grp, port, first_seq);
CREATE INDEX gaps_start ON gaps (start_ns);
