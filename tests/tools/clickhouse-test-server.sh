#!/usr/bin/env bash
# clickhouse-test-server: a throwaway clickhouse-server for tests, all of it
# (config, data, logs, pid) under one directory, listening on 127.0.0.1 only
# on free ports it picks. Several can run at once, each in its own DIR: a
# cluster test starts one per node.
#
#   clickhouse-test-server.sh start DIR [FRAGMENT.xml...]
#       Writes DIR/config.xml and DIR/users.xml, copies each FRAGMENT (a
#       whole <yandex>...</yandex> file: remote_servers, zookeeper, macros)
#       into DIR/config.d/, which clickhouse-server merges into its config;
#       starts the server in the background (DIR/pid), waits until it
#       answers SELECT 1 over HTTP (at most CLICKHOUSE_TEST_WAIT seconds,
#       30 by default), and prints its HTTP port. DIR/ports holds
#       "HTTP TCP INTERSERVER". A fragment that needs ports known only after
#       every node started (a cluster's remote_servers) may be written into
#       DIR/config.d/ later: the server reloads its config by itself within
#       seconds.
#   clickhouse-test-server.sh restart DIR
#       Starts the server of DIR again after it stopped or was killed, with
#       its config, data and ports (a cluster's other nodes know them), and
#       prints its HTTP port.
#   clickhouse-test-server.sh stop DIR
#       Stops it (SIGTERM, then SIGKILL after 30 s) and waits until it is
#       gone; nothing to stop is no error.
#
# Users: `default` without a password, and `auth_user` with the password
# `auth-password` (for the tests of credentials). Both from 127.0.0.1 only.
#
# With CLICKHOUSE_TEST_OWNER=PID in the environment, a watcher stops the
# server once that process is gone, so that a test that crashes (or that
# ctest kills at its timeout) leaves no server behind.
#
# Exits 77 (ctest's "skipped") when clickhouse-server is not installed:
# CLICKHOUSE_SERVER, else /usr/sbin/clickhouse-server (Debian's), else
# clickhouse-server on PATH (ClickHouse's own packages).
set -euo pipefail

die() {
  echo "clickhouse-test-server: $*" >&2
  exit 1
}

usage() {
  echo "usage: clickhouse-test-server.sh start DIR [FRAGMENT.xml...] | restart DIR | stop DIR" >&2
  exit 2
}

find_server() {
  if [ -n "${CLICKHOUSE_SERVER:-}" ]; then
    [ -f "$CLICKHOUSE_SERVER" ] && [ -x "$CLICKHOUSE_SERVER" ] ||
      die "CLICKHOUSE_SERVER=$CLICKHOUSE_SERVER is not an executable file"
    echo "$CLICKHOUSE_SERVER"
  elif [ -f /usr/sbin/clickhouse-server ] && [ -x /usr/sbin/clickhouse-server ]; then
    echo /usr/sbin/clickhouse-server
  elif command -v clickhouse-server >/dev/null 2>&1; then
    command -v clickhouse-server
  else
    echo "clickhouse-test-server: clickhouse-server is not installed (apt-get install" \
      "clickhouse-server, or deploy/install-deps.sh): ClickHouse tests skipped" >&2
    exit 77
  fi
}

# Three distinct free loopback ports, "HTTP TCP INTERSERVER": the kernel
# picks them, all held at once so that they differ.
free_ports() {
  python3 -c '
import socket
s = [socket.socket() for _ in range(3)]
for x in s:
    x.bind(("127.0.0.1", 0))
print(" ".join(str(x.getsockname()[1]) for x in s))'
}

write_config() { # DIR HTTP TCP INTERSERVER
  local dir=$1
  cat >"$dir/config.xml" <<EOF
<?xml version="1.0"?>
<!-- Written by clickhouse-test-server.sh: a throwaway test server. -->
<yandex>
  <logger>
    <level>information</level>
    <log>$dir/log/server.log</log>
    <errorlog>$dir/log/server.err.log</errorlog>
    <size>50M</size>
    <count>1</count>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$2</http_port>
  <tcp_port>$3</tcp_port>
  <interserver_http_port>$4</interserver_http_port>
  <interserver_http_host>127.0.0.1</interserver_http_host>
  <path>$dir/data/</path>
  <tmp_path>$dir/tmp/</tmp_path>
  <user_files_path>$dir/user_files/</user_files_path>
  <format_schema_path>$dir/format_schemas/</format_schema_path>
  <users_config>$dir/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <uncompressed_cache_size>268435456</uncompressed_cache_size>
  <max_concurrent_queries>50</max_concurrent_queries>
  <keep_alive_timeout>3</keep_alive_timeout>
  <mlock_executable>false</mlock_executable>
</yandex>
EOF
  cat >"$dir/users.xml" <<'EOF'
<?xml version="1.0"?>
<!-- Written by clickhouse-test-server.sh. -->
<yandex>
  <profiles>
    <default>
      <max_memory_usage>2000000000</max_memory_usage>
    </default>
  </profiles>
  <users>
    <default>
      <password></password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </default>
    <auth_user>
      <password>auth-password</password>
      <networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile>
      <quota>default</quota>
    </auth_user>
  </users>
  <quotas>
    <default></default>
  </quotas>
</yandex>
EOF
}

# The pid in FILE while that process runs (a zombie has stopped) with
# PATTERN on its command line: a pid the kernel has since given to another
# process is not ours to signal (this machine may run other tests).
running_pid() { # FILE PATTERN
  local pid line state
  [ -s "$1" ] || return 1
  pid=$(cat "$1")
  [ -r "/proc/$pid/cmdline" ] && line=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
  case "$line" in *"$2"*) ;; *) return 1 ;; esac
  read -r line 2>/dev/null <"/proc/$pid/stat" || return 1
  state=${line##*) }
  [ "${state%% *}" != Z ] || return 1
  echo "$pid"
}

server_pid() { # DIR
  running_pid "$1/pid" " --config-file=$1/config.xml "
}

alive() { # DIR
  server_pid "$1" >/dev/null
}

# Stops the server of DIR and its watcher, and waits until both are gone.
stop() {
  local dir=$1 pid i
  if pid=$(running_pid "$dir/watcher.pid" clickhouse-test-server); then
    kill "$pid" 2>/dev/null || true
    # gone before we return: a test counts processes (a zombie is gone: its
    # reaper is not ours, and may be slow)
    while running_pid "$dir/watcher.pid" clickhouse-test-server >/dev/null; do sleep 0.1; done
  fi
  rm -f "$dir/watcher.pid"
  pid=$(server_pid "$dir") || { rm -f "$dir/pid"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    alive "$dir" || break
    sleep 0.1
  done
  if alive "$dir"; then
    echo "clickhouse-test-server: the server in $dir did not stop within 30 s of" \
      "SIGTERM: killed" >&2
    kill -KILL "$pid" 2>/dev/null || true
    while alive "$dir"; do sleep 0.1; done
  fi
  rm -f "$dir/pid"
  # Stopped; a few seconds for its reaper (init: not ours) to take the
  # zombie, so that no process list shows it after we return.
  for ((i = 0; i < 50; i++)); do
    is_zombie "$pid" || break
    sleep 0.1
  done
}

is_zombie() { # PID
  local line
  read -r line 2>/dev/null <"/proc/$1/stat" || return 1
  line=${line##*) }
  [ "${line%% *}" = Z ]
}

# The last lines of the server's logs, for a failure message.
log_tail() {
  local f
  for f in "$1/log/server.err.log" "$1/log/stdout.log"; do
    [ -s "$f" ] && { echo "--- tail of $f:"; tail -n 20 "$f"; }
  done >&2
  return 0
}

# Runs the server of DIR (its config written) and waits until it answers
# on HTTP port $3. 0 when it does; 1 when it died on a port taken
# meanwhile (worth another try on new ports); exits otherwise.
launch() { # DIR SERVER HTTP
  local dir=$1 server=$2 http=$3 waited answer
  : >"$dir/log/server.err.log"
  # Its output to a file, never to our stdout: a caller reading the port
  # through a pipe must see it end when this script ends.
  "$server" --config-file="$dir/config.xml" >"$dir/log/stdout.log" 2>&1 </dev/null &
  echo $! >"$dir/pid"
  for ((waited = 0; waited < ${CLICKHOUSE_TEST_WAIT:-30} * 10; waited++)); do
    answer=$(curl -s --max-time 2 "http://127.0.0.1:$http/?query=SELECT%201" 2>/dev/null || true)
    if [ "$answer" = 1 ]; then
      echo "$http"
      return 0
    fi
    if ! alive "$dir"; then
      if grep -qs "Address already in use" "$dir/log/server.err.log" "$dir/log/stdout.log"; then
        rm -f "$dir/pid"
        return 1
      fi
      log_tail "$dir"
      die "clickhouse-server ($server) exited at start, see the log above ($dir/log)"
    fi
    sleep 0.1
  done
  log_tail "$dir"
  stop "$dir"
  die "clickhouse-server ($server) did not answer SELECT 1 on http://127.0.0.1:$http/ within" \
    "${CLICKHOUSE_TEST_WAIT:-30} s (see the log above, $dir/log; a busy machine may need" \
    "CLICKHOUSE_TEST_WAIT=60)"
}

# Starts the server once on free ports: launch's answer.
start_once() {
  local dir=$1 server=$2 http tcp inter
  read -r http tcp inter < <(free_ports)
  write_config "$dir" "$http" "$tcp" "$inter"
  echo "$http $tcp $inter" >"$dir/ports"
  launch "$dir" "$server" "$http"
}

# Stops the server of DIR once CLICKHOUSE_TEST_OWNER's process is gone.
watch_owner() {
  local dir=$1 owner=$2
  (
    trap 'exit 0' TERM
    while kill -0 "$owner" 2>/dev/null; do sleep 1; done
    rm -f "$dir/watcher.pid" # stop must not stop this watcher before the server
    stop "$dir"
  ) >/dev/null 2>&1 </dev/null &
  echo $! >"$dir/watcher.pid"
}

start() {
  local dir=$1 server try
  shift
  server=$(find_server)
  [ -d "$dir" ] || die "$dir is not a directory (make it first, e.g. with mktemp -d)"
  dir=$(cd "$dir" && pwd)
  ! alive "$dir" || die "a server already runs in $dir (pid $(cat "$dir/pid")): stop it first"
  mkdir -p "$dir/data" "$dir/tmp" "$dir/log" "$dir/user_files" "$dir/format_schemas" \
    "$dir/config.d"
  local frag
  for frag in "$@"; do
    [ -r "$frag" ] || die "config fragment $frag cannot be read"
    cp "$frag" "$dir/config.d/"
  done
  for try in 1 2 3; do
    if start_once "$dir" "$server"; then
      [ -z "${CLICKHOUSE_TEST_OWNER:-}" ] || watch_owner "$dir" "$CLICKHOUSE_TEST_OWNER"
      return 0
    fi
    echo "clickhouse-test-server: a port was taken meanwhile (try $try of 3): new ports" >&2
  done
  log_tail "$dir"
  die "clickhouse-server found no free ports in 3 tries (see the log above)"
}

# Starts the server of DIR again as it was (its config, data and ports),
# after it stopped or was killed: a cluster's other nodes know its ports.
restart() {
  local dir server http
  server=$(find_server)
  dir=$(cd "$1" 2>/dev/null && pwd) && [ -s "$dir/ports" ] && [ -s "$dir/config.xml" ] ||
    die "$1 holds no server started before (start it first)"
  ! alive "$dir" || die "a server already runs in $dir (pid $(cat "$dir/pid"))"
  read -r http _ <"$dir/ports"
  launch "$dir" "$server" "$http" ||
    die "a port of the server in $dir ($(cat "$dir/ports")) is taken by another process"
  [ -z "${CLICKHOUSE_TEST_OWNER:-}" ] || running_pid "$dir/watcher.pid" clickhouse-test-server \
    >/dev/null || watch_owner "$dir" "$CLICKHOUSE_TEST_OWNER"
}

[ $# -ge 2 ] || usage
case $1 in
start) shift; start "$@" ;;
restart) restart "$2" ;;
stop) stop "$(cd "$2" 2>/dev/null && pwd || echo "$2")" ;;
*) usage ;;
esac
