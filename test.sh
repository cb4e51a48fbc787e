#!/usr/bin/env bash
# The project's test command (README): every package with the race
# detector. Integration tests use ClickHouse at $CLICKHOUSE_ADDR and skip
# with a message when none answers (outside CI); .ci/run starts one.
set -euo pipefail
cd "$(dirname "$0")"
exec go test -race -count=1 -timeout 40m "$@" ./...
