#!/usr/bin/env bash
# Copied verbatim from the team's services kit (shared/services/stop-clickhouse.sh) so the repo
# does not depend on it; keep the two in step.
# stop-clickhouse.sh [DATA_DIR] [--purge]
# Stops the server started by start-clickhouse.sh for DATA_DIR (by its PID file,
# SIGTERM, then SIGKILL after CH_STOP_WAIT_SECS=30). --purge also deletes DATA_DIR.
set -euo pipefail
DIR=${1:-${CH_DATA_DIR:-/tmp/clickhouse-ci}}
PURGE=${2:-}
PIDFILE=$DIR/clickhouse.pid
WAIT=${CH_STOP_WAIT_SECS:-30}
if [[ -f $PIDFILE ]]; then
  pid=$(cat "$PIDFILE")
  if [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' < "/proc/$pid/cmdline" | grep -q -- "--config-file=$(cd "$DIR" && pwd)/config.xml"; then
    kill -TERM "$pid"
    for ((i = 0; i < WAIT * 10; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then echo "stop-clickhouse: pid $pid ignored SIGTERM, sending SIGKILL" >&2; kill -KILL "$pid"; fi
    echo "stop-clickhouse: stopped pid $pid" >&2
  else
    echo "stop-clickhouse: pid $pid from $PIDFILE is not our clickhouse-server; nothing killed" >&2
  fi
  rm -f "$PIDFILE"
else
  echo "stop-clickhouse: no $PIDFILE" >&2
fi
if [[ $PURGE == --purge ]]; then rm -rf "$DIR"; echo "stop-clickhouse: removed $DIR" >&2; fi
