#!/usr/bin/env bash
# Replication: an aggregator stores into a ClickHouse cluster of 2 shards x
# 2 replicas with ZooKeeper (clickhouse-test-cluster.sh, on loopback ports),
# --clickhouse-cluster dropscope, talking to node n1. Four hosts in
# namespaces, two on each shard, drop continuously (20 s) with collectors
# that spool. Part-way, n2 (shard 1's other replica) is SIGKILLed, stays
# down past its ZooKeeper session, and is started again. Then:
#  - while it was down, commits failed (insert_quorum = 2: nothing is
#    acknowledged that is on one disk only);
#  - every host's stored Udp.RcvbufErrors equals its kernel's exactly:
#    nothing lost (the spool covered the outage), nothing twice;
#  - each replica of each shard holds exactly its hosts' drops, n2 too
#    (it caught up from n1);
#  - a database of the other layout (made on one server, or on the
#    cluster) is refused at start, saying what to do.
# Skipped without clickhouse-server or ZooKeeper.
source "$(dirname "$0")/lib.sh"
require_root
start_clickhouse_cluster chc
CH1="http://127.0.0.1:${CH_PORTS[0]}/"
ch_query() { # PORT SQL: the answer, TabSeparated
  curl -sfS "http://127.0.0.1:$1/" --data-binary "$2"
}

# Two host names for each shard, shard 1's first: a Distributed table of
# two equal shards puts a row on shard 1 + cityHash64(host) % 2.
on1=() on2=()
for k in $(seq 1 40); do
  name="rep$k-$$"
  if [ "$(ch_query "${CH_PORTS[0]}" "SELECT cityHash64('$name') % 2")" = 0 ]; then
    on1+=("$name")
  else
    on2+=("$name")
  fi
done
names=("${on1[@]:0:2}" "${on2[@]:0:2}")
[ ${#names[@]} -eq 4 ] || fail "no four host names split two and two over the shards"

start_named_aggregator agg --clickhouse "${CH1}?database=repl" --clickhouse-cluster dropscope
SERVER="http://127.0.0.1:${AGG_HTTP[agg]}"
metric() { curl -sf "$SERVER/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }

P=ds-rep-$$
make_fleet "$P" 4
for i in 1 2 3 4; do
  ip netns exec "$P-h$i" "$BIN_DIR/dropscope-collector" --connect "ipc://$TMP/agg.sock" \
    --insecure --host-name "${names[$((i - 1))]}" --interval 500ms --spool "$TMP/spool-$i" \
    2>>"$TMP/collector-$i.log" &
  PIDS+=($!)
  udp_dropper "$P-h$i" 20 "$TMP/sent-$i"
done
for i in 1 2 3 4; do
  wait_for 30 "${names[$((i - 1))]} on agg" reports_to agg "${names[$((i - 1))]}"
done

sleep 3
failures=$(metric dropscope_commit_failures_total)
n2=$TMP/chc/n2
kill -9 "$(cat "$n2/pid")"
log "n2 (shard 1, replica 2) killed"
commit_failed() { [ "$(metric dropscope_commit_failures_total)" -gt "$failures" ]; }
wait_for 30 "a commit to fail while shard 1 has one replica" commit_failed
# Down past its ZooKeeper session (10 s), so that the cluster knows it is gone.
sleep 5
after=$(metric dropscope_commit_failures_total)
bash "${CLICKHOUSE_SCRIPT%/*}/clickhouse-test-server.sh" restart "$n2" >/dev/null \
  2>>"$TMP/clickhouse.log" || fail "n2 did not start again (clickhouse.log)"
log "n2 started again; $((after - failures)) commits failed meanwhile"

senders_done() { for i in 1 2 3 4; do [ -e "$TMP/sent-$i" ] || return 1; done; }
wait_for 60 "the droppers to finish" senders_done
deadline=$(( $(date +%s) + 90 ))
declare -A kernel
for i in 1 2 3 4; do
  kernel[$i]=$(kernel_counter "$P-h$i" UdpRcvbufErrors)
  [ "${kernel[$i]}" -gt 1000 ] || fail "host $i dropped only ${kernel[$i]}"
  expect_stored "${names[$((i - 1))]}" "${kernel[$i]}" "$deadline"
done

# Each replica on its own: its local table, each row's key once.
for n in 1 2 3 4; do
  port=${CH_PORTS[$((n - 1))]}
  ch_query "$port" "SYSTEM SYNC REPLICA repl.drops_local" >/dev/null ||
    fail "n$n did not catch up with its shard"
  for i in 1 2 3 4; do
    host=${names[$((i - 1))]}
    on_shard=$(( (i - 1) / 2 + 1 )) # names: two of shard 1, then two of shard 2
    want=0
    [ $(( (n + 1) / 2 )) -ne $on_shard ] || want=${kernel[$i]}
    got=$(ch_query "$port" "SELECT sum(d) FROM (SELECT any(delta) AS d FROM repl.drops_local
      WHERE host = '$host' AND name = 'Udp.RcvbufErrors' GROUP BY host, ts_ns, source, device, name)")
    [ "$got" = "$want" ] || fail "node n$n holds $got drops of $host, expected $want"
  done
done
log "ok: every replica holds exactly its shard's drops, n2 (killed mid-run) included"

# A database is of one layout: the cluster's is refused without the
# cluster's name, and one made on a single server is refused as a cluster's.
refused() { # WANT ARGS...: the aggregator exits at start saying WANT (a regex)
  local want=$1 out; shift
  out=$(timeout 30 "$BIN_DIR/dropscope-aggregator" --listen "ipc://$TMP/refused.sock" \
    --insecure --http "127.0.0.1:$(free_port)" "$@" 2>&1) && fail "the aggregator ran with $*"
  grep -qE "$want" <<<"$out" || fail "the aggregator's refusal does not say '$want': $out"
}
refused "database repl was made on a cluster, and its table [a-z0-9_]+ is Distributed: give \
clickhouse-cluster" --clickhouse "${CH1}?database=repl"
start_named_aggregator single --clickhouse "http://127.0.0.1:${CH_PORTS[2]}/?database=single"
kill "${AGG_PID[single]}"
refused "database single was made on one server, and its table [a-z0-9_]+ is [A-Za-z]+: a \
cluster needs a database of its own" --clickhouse "http://127.0.0.1:${CH_PORTS[2]}/?database=single" \
  --clickhouse-cluster dropscope
log "ok: a database of the other layout is refused, with what to do"
