#!/usr/bin/env bash
# Installs the Debian packages dropscope needs to build, run and test, and only
# those that are missing: a second run does nothing and needs no network.
# The README lists each package with the reason it is here.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang libclang-rt-14-dev
  libzmq3-dev libczmq-dev
  libprotobuf-c-dev protobuf-c-compiler
  libsqlite3-dev sqlite3
  libmnl-dev libmicrohttpd-dev libjansson-dev libcurl4-openssl-dev
  libcmocka-dev libsystemd-dev libzstd-dev
  libbpf-dev bpftool
  libcap-dev
  iproute2 ethtool python3 curl tcpdump nftables
  python3-zmq python3-protobuf protobuf-compiler python3-jsonschema
  chromium
  debhelper dpkg-dev fakeroot lintian systemd
  help2man bash-completion
  prometheus prometheus-alertmanager
  clickhouse-server clickhouse-client zookeeper
)
# The web view's libraries come from the npm registry (web/package-lock.json):
# Debian's npm only when the machine has no npm of its own, and none for a
# build without the web view (DROPSCOPE_WEB=OFF, as `make collector` runs).
if [ "${DROPSCOPE_WEB:-ON}" != OFF ]; then
  command -v npm >/dev/null 2>&1 || packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = "installed" ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO=sudo
  else
    echo "install-deps: need root to install ${missing[*]} (run as root or install them with apt-get)" >&2
    exit 1
  fi
else
  SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
# The package lists may be stale on a fresh machine; refresh them once when an
# install is needed, and retry the install once if it fails on a moved mirror.
$SUDO apt-get update -qq
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# Debian's prometheus, prometheus-alertmanager and clickhouse-server start
# their services as they install (under systemd; elsewhere through their
# init.d scripts, unless a policy-rc.d forbids it, as in containers): a
# Prometheus on :9090 that scrapes nothing of ours, an Alertmanager on :9093
# gossiping on :9094, a ClickHouse on :8123 and :9000. The tests start their
# own, on free ports, so those installed just now are stopped and disabled;
# ones that were here before are left alone. zookeeper is in the list for
# the same reason, though Debian 12's ships no service (zookeeperd would):
# nothing is done for a package without one.
for p in prometheus prometheus-alertmanager clickhouse-server zookeeper; do
  case " ${missing[*]} " in *" $p "*) ;; *) continue ;; esac
  if [ -d /run/systemd/system ]; then
    $SUDO systemctl disable --now "$p" >/dev/null 2>&1 || true
  elif [ -x "/etc/init.d/$p" ]; then
    $SUDO "/etc/init.d/$p" stop >/dev/null 2>&1 || true
    $SUDO update-rc.d "$p" disable >/dev/null 2>&1 || true
  fi
done
