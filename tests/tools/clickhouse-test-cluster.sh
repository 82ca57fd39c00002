#!/usr/bin/env bash
# clickhouse-test-cluster: a throwaway ClickHouse cluster for tests, on
# loopback only: ZooKeeper (Debian's zookeeper package) and four
# clickhouse-servers (clickhouse-test-server.sh) as 2 shards x 2 replicas,
# the cluster named `dropscope` in every server's remote_servers, each
# server's macros {shard} and {replica} set, distributed DDL (ON CLUSTER)
# through ZooKeeper. All of it under one directory.
#
#   clickhouse-test-cluster.sh start DIR
#       Starts ZooKeeper (DIR/zk) and the servers (DIR/n1 .. DIR/n4: n1 and
#       n2 shard 1, n3 and n4 shard 2), waits until every server sees the
#       whole cluster, and prints the four HTTP ports on one line.
#   clickhouse-test-cluster.sh stop DIR
#       Stops them all; nothing to stop is no error.
#
# Exits 77 (ctest's "skipped") when clickhouse-server or ZooKeeper is not
# installed. CLICKHOUSE_TEST_OWNER as for clickhouse-test-server.sh (ZooKeeper
# too is stopped once that process is gone). A test may kill a node and
# start it again: clickhouse-test-server.sh restart DIR/nN.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
SERVER=$HERE/clickhouse-test-server.sh
ZK=/usr/share/zookeeper/bin/zkServer.sh

die() {
  echo "clickhouse-test-cluster: $*" >&2
  exit 1
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ZooKeeper in the foreground of a background shell, its pid in DIR/zk/pid.
start_zk() { # DIR
  local dir=$1/zk port
  [ -x "$ZK" ] && command -v java >/dev/null ||
    { echo "clickhouse-test-cluster: zookeeper is not installed (apt-get install zookeeper):" \
        "cluster tests skipped" >&2; exit 77; }
  mkdir -p "$dir/data"
  port=$(free_port)
  cat >"$dir/zoo.cfg" <<EOF
tickTime=500
initLimit=10
syncLimit=5
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok
EOF
  echo "$port" >"$dir/port"
  ZOOCFGDIR=$dir ZOO_LOG_DIR=$dir setsid "$ZK" start-foreground "$dir/zoo.cfg" \
    >"$dir/zk.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  if [ -n "${CLICKHOUSE_TEST_OWNER:-}" ]; then # as the servers' watchers
    local owner=$CLICKHOUSE_TEST_OWNER zk=$!
    ( while kill -0 "$owner" 2>/dev/null && kill -0 "$zk" 2>/dev/null; do sleep 1; done
      kill -- "-$zk" 2>/dev/null || true ) >/dev/null 2>&1 </dev/null &
  fi
  local end=$((SECONDS + 30))
  while [ $SECONDS -lt $end ]; do
    # (at most 2 s a try: a server still starting may take the connection and not answer)
    [ "$(timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0" && echo ruok >&3 && cat <&3' \
      "$port" 2>/dev/null)" = imok ] &&
      return 0
    sleep 0.1
  done
  die "ZooKeeper did not answer on 127.0.0.1:$port within 30 s: $(tail -n 5 "$dir/zk.log")"
}

# What every node reads at start (18.16 reloads neither): where ZooKeeper
# is, and distributed DDL (ON CLUSTER) through it.
write_zookeeper() { # DIR
  cat >"$1/zookeeper.xml" <<EOF
<?xml version="1.0"?>
<yandex>
  <zookeeper><node><host>127.0.0.1</host><port>$(cat "$1/zk/port")</port></node>
    <session_timeout_ms>10000</session_timeout_ms></zookeeper>
  <distributed_ddl><path>/clickhouse/task_queue/ddl</path></distributed_ddl>
</yandex>
EOF
}

# The cluster, its nodes' TCP ports known once all started: a server
# reloads remote_servers by itself within seconds.
write_cluster() { # DIR
  local dir=$1 n tcp
  {
    echo '<?xml version="1.0"?>'
    echo '<yandex>'
    echo '  <remote_servers><dropscope>'
    for shard in "1 2" "3 4"; do
      echo '    <shard><internal_replication>true</internal_replication>'
      for n in $shard; do
        read -r _ tcp _ <"$dir/n$n/ports"
        echo "      <replica><host>127.0.0.1</host><port>$tcp</port></replica>"
      done
      echo '    </shard>'
    done
    echo '  </dropscope></remote_servers>'
    echo '</yandex>'
  } >"$dir/cluster.xml"
}

start() {
  local dir=$1 n ports=()
  mkdir -p "$dir"
  start_zk "$dir"
  write_zookeeper "$dir"
  for n in 1 2 3 4; do
    mkdir -p "$dir/n$n"
    cat >"$dir/n$n/macros.xml" <<EOF
<?xml version="1.0"?>
<yandex><macros><shard>$(( (n + 1) / 2 ))</shard><replica>r$(( (n + 1) % 2 + 1 ))</replica></macros></yandex>
EOF
    ports+=("$(bash "$SERVER" start "$dir/n$n" "$dir/n$n/macros.xml" "$dir/zookeeper.xml")")
  done
  write_cluster "$dir"
  for n in 1 2 3 4; do cp "$dir/cluster.xml" "$dir/n$n/config.d/cluster.xml"; done
  # Each server reloads its config by itself within seconds.
  for n in 1 2 3 4; do
    local i seen=
    for ((i = 0; i < 300; i++)); do
      seen=$(curl -sf "http://127.0.0.1:${ports[$((n - 1))]}/" --data-binary \
        "SELECT count() FROM system.clusters WHERE cluster = 'dropscope'" 2>/dev/null) || true
      [ "$seen" = 4 ] && break
      sleep 0.1
    done
    [ "$seen" = 4 ] || die "server n$n does not see the cluster after 30 s (sees ${seen:-nothing})"
  done
  echo "${ports[*]}"
}

stop() {
  local dir=$1 n pid
  for n in 1 2 3 4; do
    [ -d "$dir/n$n" ] && bash "$SERVER" stop "$dir/n$n"
  done
  if [ -s "$dir/zk/pid" ] && pid=$(cat "$dir/zk/pid") && kill -0 "$pid" 2>/dev/null; then
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$dir/zk/pid"
}

[ $# -eq 2 ] || { echo "usage: clickhouse-test-cluster.sh start|stop DIR" >&2; exit 2; }
case $1 in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) echo "usage: clickhouse-test-cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
