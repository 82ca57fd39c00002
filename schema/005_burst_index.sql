-- 005_burst_index: a covering index for correlation, which reads every
-- received burst of a range in corrected-start order: answered from the
-- index alone, without a lookup into the table per burst.
DROP INDEX bursts_corrected;
CREATE INDEX bursts_corrected ON bursts
  (corrected_start_ns, direction, host_id, iface, start_ns, end_ns, uncertainty_ns, packets,
   drops_total);
