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
#   CH_TCP_PORT=9000 CH_HTTP_PORT=8123       loopback ports (native, HTTP)
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

clickhouse_start() {
  local dir=${CH_DATA_DIR:-/tmp/creditd-ci-clickhouse}
  (
    set -euo pipefail
    _creditd_ch_install
    CH_INSTALL=0 bash "$_creditd_ch_here/start-clickhouse.sh" "$dir" >/dev/null
  ) || { echo "clickhouse.sh: ClickHouse did not start (see $dir/log)" >&2; return 1; }
  export CLICKHOUSE_ADDR="127.0.0.1:${CH_TCP_PORT:-9000}"
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
