#!/usr/bin/env bash
# run.sh NAME SECONDS [libFuzzer flags...]: runs $FUZZ_DIR/fuzz_NAME for
# SECONDS on a throwaway corpus seeded from $FIXTURES_DIR (codec, ingest,
# spool, state, rawpack: by their $FUZZ_DIR/gen_NAME_seeds; http: requests listed
# below). Exits with the fuzzer's status; a crash, leak or timeout input is kept as ${FUZZ_ARTIFACTS:-/tmp}/fuzz_NAME-<kind>-<sha1>.
set -euo pipefail

name=${1:?usage: run.sh NAME SECONDS [libFuzzer flags...]}
seconds=${2:?usage: run.sh NAME SECONDS [libFuzzer flags...]}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
fuzz_dir=${FUZZ_DIR:?set FUZZ_DIR to the directory holding the fuzz_* binaries (build-asan/fuzz)}
fixtures=${FIXTURES_DIR:-$here/../fixtures}
artifacts=${FUZZ_ARTIFACTS:-/tmp}
fuzzer=$fuzz_dir/fuzz_$name

if [[ ! -x $fuzzer ]]; then
  echo "run.sh: no fuzzer $fuzzer (build with CC=clang and -DDROPSCOPE_SANITIZE=ON)" >&2
  exit 2
fi
mkdir -p "$artifacts"
work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz_$name.XXXXXX")
trap 'rm -rf "$work"' EXIT
corpus=$work/corpus
mkdir "$corpus"

# Copies each fixture file given into the corpus, named after its path so
# that the many files called "dev" or "statistics" do not overwrite each other.
seed() {
  local f
  for f in "$@"; do
    [[ -f $f ]] && cp "$f" "$corpus/$(tr / _ <<<"${f#"$fixtures"/}")"
  done
  return 0
}

shopt -s nullglob
case $name in
  codec) "$fuzz_dir/gen_codec_seeds" "$corpus" ;;
  ingest)
    "$fuzz_dir/gen_ingest_seeds" "$corpus"
    # and the codec's, mostly refused by the validator, renamed: both have a hello.pb
    mkdir "$work/codec"
    "$fuzz_dir/gen_codec_seeds" "$work/codec"
    for f in "$work"/codec/*; do cp "$f" "$corpus/codec-${f##*/}"; done
    ;;
  spool) "$fuzz_dir/gen_spool_seeds" "$corpus" ;;
  rawpack) "$fuzz_dir/gen_rawpack_seeds" "$corpus" ;;
  http)
    # requests as MHD hands them over (decoded): every endpoint, every kind
    # of parameter, good and bad
    i=0
    while IFS= read -r line; do
      printf '%s' "$line" >"$corpus/http-$i"
      i=$((i + 1))
    done <<'SEEDS'
/api/hosts
/api/drops?host=h1&since=2h&limit=5
/api/drops?layer=nic&from=2026-11-22T14:00:00Z&to=2026-11-22T15:00:00.5+01:00&step=1m
/api/drops?from=1795359570000000000&to=1795359580000000000
/api/bursts?host=h1&iface=eth0&since=1d&limit=2
/api/incidents?since=90s&window=2ms&min_hosts=3&limit=10
/api/timeline?host=h1,h2&since=1h&window=10s&limit=3
/api/diagnose?host=h1&since=7d
/api/series?host=h1&series=netdev/eth0/rx_dropped&since=1h&step=1m
/api/series?host=h1
/api/settings?host=h1&to=2262-04-11T23:47:16.854775807Z
/api/top?since=1d&limit=20
/api/drops?since=106752d&limit=1000000
/api/drops?since=250us&from=x
/api/v1/drops?host=h1&from=-1h30m&to=now&limit=3&order=oldest
/api/v1/drops?from=1795359570000000000ns&cursor=1795359580000000000.2&limit=2
/api/v1/bursts?from=@1795359570&to=1795359580s&cursor=1795359575000000000.0
/api/v1/gaps?host=h1&since=1h&cursor=x.y
/api/v1/incidents?from=2026-11-22T14:00:00Z&to=+5m&limit=1
/api/v1/timeline?host=h1&from=1h30m ago
/api/v1/totals?from=1795359570
/api/v1/openapi.json
/healthz
/metrics
/nope?a&b=&=c
SEEDS
    ;;
  state) "$fuzz_dir/gen_state_seeds" "$corpus" "$fixtures" ;;
  netdev) seed "$fixtures"/*/proc/net/dev ;;
  snmp)
    seed "$fixtures"/*/proc/net/snmp "$fixtures"/*/proc/net/netstat "$fixtures"/*/proc/net/snmp6 \
      "$fixtures"/seed-lines/proc-net-snmp-*.txt ;;
  softnet)
    seed "$fixtures"/*/proc/net/softnet_stat "$fixtures"/procfs-softnet-multiformat/proc/net/* \
      "$fixtures"/seed-lines/softnet_stat-line-10col.txt ;;
  sockets) seed "$fixtures"/*/proc/net/udp* ;;
  sockdiag) seed "$fixtures"/*/sockdiag/*.bin ;;
  sysctl)
    seed "$fixtures"/*/proc/sys/net/*/* "$fixtures"/seed-lines/sysctl-net-buffers.txt
    # and the values of that `sysctl` listing alone, as the files hold them
    i=0
    while IFS= read -r line; do
      [[ $line == *" = "* ]] || continue
      printf '%s\n' "${line#* = }" >"$corpus/sysctl-line-$i"
      i=$((i + 1))
    done <"$fixtures/seed-lines/sysctl-net-buffers.txt"
    ;;
  netlink) seed "$fixtures"/*/netlink/*.bin ;;
  qdisc)
    seed "$fixtures"/*/netlink/*.bin
    # a qdisc dump and the link dump recorded after it, as fuzz_qdisc splits them
    for d in "$fixtures"/*/netlink; do
      if [[ -f $d/getqdisc.bin && -f $d/getlink.bin ]]; then
        cat "$d/getqdisc.bin" "$d/getlink.bin" >"$corpus/$(tr / _ <<<"${d#"$fixtures"/}")_qdisc+link"
      fi
    done
    ;;
  onload)
    seed "$fixtures"/onload-stackdump/*.txt "$fixtures"/seed-lines/onload_stackdump-*.txt ;;
  ethtool)
    seed "$fixtures"/*/ethtool/*/statistics "$fixtures"/*/ethtool/*/ring \
      "$fixtures"/seed-lines/ethtool-*.txt ;;
  irq)
    seed "$fixtures"/linux-*/proc/interrupts "$fixtures"/*/proc/softirqs "$fixtures"/*/proc/stat \
      "$fixtures"/*/sys/class/net/*/queues/rx-[01]/rps_cpus
    # the 128-CPU host's lines are long: its first rows, with the mlx5 lines
    head -n 8 "$fixtures"/synthetic-128cpu-mlx5-i40e/proc/interrupts >"$corpus/interrupts-128cpu-head"
    ;;
  *)
    echo "run.sh: unknown target \"$name\" (codec, ingest, http, spool, rawpack, state, netdev, snmp, softnet, sockets, sockdiag, sysctl, ethtool, irq, onload, netlink, qdisc)" >&2
    exit 2
    ;;
esac
nseeds=$(find "$corpus" -type f | wc -l)
if [[ $nseeds -eq 0 ]]; then
  echo "run.sh: no seeds for $name under $fixtures (set FIXTURES_DIR to tests/fixtures)" >&2
  exit 2
fi
echo "run.sh: fuzz_$name for ${seconds}s from $nseeds seeds"

touch "$work/start"
status=0
"$fuzzer" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$artifacts/fuzz_$name-" "$@" "$corpus" || status=$?
found=$(find "$artifacts" -maxdepth 1 -name "fuzz_$name-*" -newer "$work/start" -type f)
if [[ $status -ne 0 ]]; then
  echo "run.sh: fuzz_$name failed with status $status; input kept in: ${found:-(none written)}" >&2
  echo "run.sh: reproduce with $fuzzer <that file>" >&2
elif [[ -n $found ]]; then
  echo "run.sh: fuzz_$name wrote: $found" >&2
fi
exit "$status"
