#!/usr/bin/env bash
# .ci/clickhouse.sh — a throwaway ClickHouse on 127.0.0.1 for the tests.
#
#   source .ci/clickhouse.sh          install if needed, start, export CLICKHOUSE_ADDR;
#                                     defines clickhouse_start / clickhouse_stop
#   bash .ci/clickhouse.sh [start]    same, printing CLICKHOUSE_ADDR=host:port on stdout
#                                     (export "$(bash .ci/clickhouse.sh)")
#   bash .ci/clickhouse.sh stop       stop it and delete its directory
#
# Works on a fresh Debian 12 machine as root: it runs apt-get update and
# installs clickhouse-server/-client (Debian's 18.16.1) plus curl and
# iproute2, which the start script uses, when any is missing. The server runs
# without systemd, as the current user, with every file under CH_DATA_DIR.
#
# Environment (optional):
#   CH_DATA_DIR=/tmp/creditd-ci-clickhouse   server directory (data, logs, config, pid)
#   CH_TCP_PORT=9000 CH_HTTP_PORT=8123       loopback ports (native, HTTP); when neither is set
#                                            and another server holds 9000/8123, a free pair
#                                            from 19000 up is used (CLICKHOUSE_ADDR says which)
#   and the variables of .ci/start-clickhouse.sh (CH_WAIT_SECS, CH_LOG_LEVEL, ...).
# Tests then read CLICKHOUSE_ADDR; with CI=true they fail instead of skipping
# when it does not answer.

_creditd_ch_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

_creditd_ch_install() {
  local missing=()
  [[ -x /usr/sbin/clickhouse-server ]] || missing+=(clickhouse-server)
  [[ -x /usr/bin/clickhouse-client ]] || missing+=(clickhouse-client)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v ss >/dev/null 2>&1 || missing+=(iproute2)
  ((${#missing[@]} == 0)) && return 0
  if [[ $(id -u) != 0 ]]; then
    echo "clickhouse.sh: missing ${missing[*]}; run as root or install them" >&2
    return 1
  fi
  echo "clickhouse.sh: installing ${missing[*]} (apt)" >&2
  export DEBIAN_FRONTEND=noninteractive
  # Keep the package from starting a system-wide server: we start our own.
  local policy=/usr/sbin/policy-rc.d added=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && added=1
  fi
  local rc=0
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2 || rc=$?
  ((added)) && rm -f "$policy"
  return "$rc"
}

_creditd_ch_busy() { ss -Hltn "( sport = :$1 )" 2>/dev/null | grep -q .; }

clickhouse_start() {
  local dir=${CH_DATA_DIR:-/tmp/creditd-ci-clickhouse}
  if [[ -d $dir ]]; then dir=$(cd "$dir" && pwd); fi
  (
    set -euo pipefail
    _creditd_ch_install
  ) || { echo "clickhouse.sh: could not install ClickHouse" >&2; return 1; }
  local tcp=${CH_TCP_PORT:-} http=${CH_HTTP_PORT:-}
  if [[ -z $tcp && -z $http ]]; then
    local pid=""
    [[ -f $dir/clickhouse.pid ]] && pid=$(cat "$dir/clickhouse.pid")
    if [[ -n $pid && -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--config-file=$dir/config.xml"; then
      # Our server for this directory is running: keep its ports.
      tcp=$(sed -n 's:.*<tcp_port>\([0-9]*\)</tcp_port>.*:\1:p' "$dir/config.xml")
      http=$(sed -n 's:.*<http_port>\([0-9]*\)</http_port>.*:\1:p' "$dir/config.xml")
    else
      tcp=9000 http=8123
      # Another server (a developer's) holds the defaults: take free ports.
      while _creditd_ch_busy "$tcp" || _creditd_ch_busy "$http"; do
        if ((tcp == 9000)); then tcp=19000; else tcp=$((tcp + 2)); fi
        http=$((tcp + 1))
        ((tcp < 20000)) || { echo "clickhouse.sh: no free port pair below 20000" >&2; return 1; }
      done
    fi
  fi
  (
    set -euo pipefail
    CH_TCP_PORT=$tcp CH_HTTP_PORT=${http:-8123} CH_INSTALL=0 bash "$_creditd_ch_here/start-clickhouse.sh" "$dir" >/dev/null
  ) || { echo "clickhouse.sh: ClickHouse did not start (see $dir/log)" >&2; return 1; }
  export CLICKHOUSE_ADDR="127.0.0.1:$tcp"
  echo "CLICKHOUSE_ADDR=$CLICKHOUSE_ADDR"
}

clickhouse_stop() {
  local dir=${CH_DATA_DIR:-/tmp/creditd-ci-clickhouse}
  bash "$_creditd_ch_here/stop-clickhouse.sh" "$dir" --purge
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  case ${1:-start} in
  start) clickhouse_start ;;
  stop) clickhouse_stop ;;
  *)
    echo "usage: $0 [start|stop]   (or: source $0)" >&2
    exit 2
    ;;
  esac
else
  clickhouse_start
fi
