#!/usr/bin/env bash
# Run pytest against real Redis, PostgreSQL and Kafka-protocol (Tansu) servers.
#
#   scripts/test.sh [pytest args...]      e.g. scripts/test.sh -q -n 2
#
# Starts the servers with scripts/services.sh (or uses CAIRN_TEST_POSTGRES_URL /
# CAIRN_TEST_REDIS_URL / CAIRN_TEST_KAFKA_URL when already set), exports their URLs, runs
# `.venv/bin/python -m pytest "$@"`, and always stops what it started, even when
# pytest fails or is interrupted. Exits with pytest's exit code.
# Servers that were already running before (a developer's `services.sh start`)
# are reused and left running; only the ones this run started are stopped.
# CAIRN_ALLOW_NO_TESTS=1 turns pytest's "no tests collected" (exit 5) into 0.
# The headless browser of tests/browser (Debian's chromium and chromium-driver) is installed
# when missing, and CAIRN_REQUIRE_BROWSER=1 makes those tests fail rather than skip when it
# cannot start (CAIRN_REQUIRE_BROWSER=0 lets them skip). Their screenshots go to
# $CAIRN_TEST_ARTIFACTS (default test-artifacts/dashboard/). A Java runtime (the Spark tests)
# and nginx (the load balancer of tests/deploy) are installed when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

services=scripts/services.sh
if [ ! -x .venv/bin/python ]; then
    echo "test.sh: error: .venv is missing: run 'make venv' (or 'make test')" >&2
    exit 2
fi
started=()
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    if [ "${#started[@]}" -gt 0 ]; then
        "$services" stop "${started[@]}" || echo "test.sh: warning: could not stop test servers" >&2
    fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for service in postgres redis kafka; do
    if ! "$services" status "$service" >/dev/null 2>&1; then
        started+=("$service")
    fi
done
export CAIRN_REQUIRE_BROWSER="${CAIRN_REQUIRE_BROWSER:-1}"
"$services" browser || [ "$CAIRN_REQUIRE_BROWSER" = 0 ]
"$services" java
"$services" nginx
"$services" start
eval "$("$services" env)"
export CAIRN_TEST_POSTGRES_URL CAIRN_TEST_REDIS_URL CAIRN_TEST_KAFKA_URL

set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ] && [ "${CAIRN_ALLOW_NO_TESTS:-0}" = 1 ]; then
    echo "test.sh: no tests collected (allowed by CAIRN_ALLOW_NO_TESTS=1)" >&2
    rc=0
fi
exit "$rc"
