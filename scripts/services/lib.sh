# shellcheck shell=bash
# shellcheck disable=SC2034 # variables here are used by the scripts that source this file
# Shared settings and helpers for scripts/services/{install,up,down}.sh.
# Sourced, never run. Everything can be overridden through the environment.

# --- versions (the one place they are pinned) --------------------------------
KAFKA_VERSION=4.3.1
KAFKA_SCALA_VERSION=2.13
# log4j2 backend for Kafka's slf4j logging; matches the log4j-core Kafka pulls.
LOG4J_VERSION=2.24.3
# log4j-slf4j2-impl needs the slf4j 2.x API; kafka_2.13 still declares 1.7.x,
# which Maven could pick and which would silently drop every log line.
SLF4J_VERSION=2.0.16

# --- paths --------------------------------------------------------------------
SERVICES_LIB_DIR="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)"
REPO_ROOT="$(cd -- "${SERVICES_LIB_DIR}/../.." && pwd -P)"
SERVICES_DIR="${SERVICES_DIR:-${REPO_ROOT}/.services}"
ENV_FILE="${SERVICES_ENV_FILE:-${REPO_ROOT}/.env.services}"

# Home of the person who asked: under `sudo`, the invoking user's, so that
# `sudo npm run services:install` fills the same cache `npm run services:up`
# (run without sudo) reads.
invoking_home() {
  if [[ "$(id -u)" == 0 && -n "${SUDO_USER:-}" && "${SUDO_USER}" != root ]]; then
    local home
    home="$(getent passwd "${SUDO_USER}" | cut -d: -f6)"
    if [[ -n "${home}" ]]; then
      printf '%s\n' "${home}"
      return
    fi
  fi
  printf '%s\n' "${HOME:-/root}"
}

# Downloaded jars live outside the work tree so fresh clones (CI) reuse them.
if [[ -z "${SERVICES_CACHE_DIR:-}" ]]; then
  if [[ -n "${XDG_CACHE_HOME:-}" && -z "${SUDO_USER:-}" ]]; then
    SERVICES_CACHE_DIR="${XDG_CACHE_HOME}/concert-services"
  else
    SERVICES_CACHE_DIR="$(invoking_home)/.cache/concert-services"
  fi
fi
KAFKA_HOME="${SERVICES_CACHE_DIR}/kafka-${KAFKA_VERSION}"
KAFKA_LIBS="${KAFKA_HOME}/libs"
# Written last by install.sh; its presence means the libs folder is complete.
KAFKA_LIBS_MARKER="${KAFKA_LIBS}/.complete"

# --- ports (127.0.0.1 only) --------------------------------------------------
MARIADB_PORT="${MARIADB_PORT:-33306}"
REDIS_PORT="${REDIS_PORT:-36379}"
KAFKA_PORT="${KAFKA_PORT:-39092}"
KAFKA_CONTROLLER_PORT="${KAFKA_CONTROLLER_PORT:-39093}"
SERVICES_HOST=127.0.0.1

# --- database credentials used by the app and the tests ----------------------
DB_NAME=concert
DB_USER=concert
DB_PASSWORD=concert

# --- per-service folders ------------------------------------------------------
MARIADB_DIR="${SERVICES_DIR}/mariadb"
REDIS_DIR="${SERVICES_DIR}/redis"
KAFKA_DIR="${SERVICES_DIR}/kafka"

# Unix socket paths are limited to ~107 bytes; fall back to /tmp for deep trees.
MARIADB_SOCKET="${MARIADB_DIR}/mariadb.sock"
if [[ ${#MARIADB_SOCKET} -gt 100 ]]; then
  MARIADB_SOCKET="${TMPDIR:-/tmp}/concert-services-$(id -u)-$(printf '%s' "${SERVICES_DIR}" | cksum | cut -d' ' -f1).sock"
fi

# Pid files (one per service, all under SERVICES_DIR).
MARIADB_PID_FILE="${MARIADB_DIR}/mariadb.pid"
REDIS_PID_FILE="${REDIS_DIR}/redis.pid"
KAFKA_PID_FILE="${KAFKA_DIR}/kafka.pid"

# --- logging ------------------------------------------------------------------
log() { printf '[services] %s\n' "$*"; }
warn() { printf '[services] WARNING: %s\n' "$*" >&2; }
die() {
  printf '[services] ERROR: %s\n' "$*" >&2
  exit 1
}

# --- small utilities ----------------------------------------------------------
now_ms() { date +%s%3N; }

# First of the given program names found on PATH (or in sbin), else nothing.
find_program() {
  local name dir
  for name in "$@"; do
    if command -v "${name}" >/dev/null 2>&1; then
      command -v "${name}"
      return 0
    fi
    for dir in /usr/sbin /usr/local/sbin /sbin; do
      if [[ -x "${dir}/${name}" ]]; then
        printf '%s\n' "${dir}/${name}"
        return 0
      fi
    done
  done
  return 1
}

# True when something accepts TCP connections on 127.0.0.1:$1.
port_open() {
  (exec 3<>"/dev/tcp/${SERVICES_HOST}/$1") >/dev/null 2>&1
}

# Command line of process $1 (spaces instead of NULs); empty when gone.
process_cmdline() {
  if [[ -r "/proc/$1/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null || true
  else
    ps -o args= -p "$1" 2>/dev/null || true
  fi
}

# Prints the pid stored in file $1 when that process is alive and its command
# line matches the extended regex $2 (guards against recycled pids).
live_pid() {
  local file="$1" pattern="$2" pid
  [[ -f "${file}" ]] || return 1
  pid="$(tr -dc '0-9' <"${file}")"
  [[ -n "${pid}" ]] || return 1
  kill -0 "${pid}" 2>/dev/null || return 1
  process_cmdline "${pid}" | grep -Eq -- "${pattern}" || return 1
  printf '%s\n' "${pid}"
}

# Command-line patterns that identify our processes.
MARIADB_PATTERN='(mariadbd|mysqld)'
REDIS_PATTERN='redis-server'
KAFKA_PATTERN='kafka\.Kafka'

# redis.conf for a local Redis: dir $1, port $2, pid file $3, log file $4 (tests start theirs from it too).
# The waiting line lives in Redis: a restart must not send every fan to the back, so every write goes to
# the append-only file, flushed once a second (a crash loses at most that second), as a production
# primary and its replicas keep it. No RDB snapshots: the AOF alone is replayed at start.
redis_conf() {
  cat <<EOF
# Generated by scripts/services (redis_conf in lib.sh) on every start: edit that function instead.
bind ${SERVICES_HOST}
port $2
protected-mode yes
dir $1
pidfile $3
logfile $4
daemonize yes
save ""
appendonly yes
appendfsync everysec
appenddirname appendonly
maxclients 10000
EOF
}

# Serialises up.sh/down.sh runs (e.g. two test runs starting at once).
take_lock() {
  mkdir -p "${SERVICES_DIR}"
  if command -v flock >/dev/null 2>&1; then
    exec 9>"${SERVICES_DIR}/.lock"
    if ! flock -w 300 9; then die "another services:up/down is still running (lock ${SERVICES_DIR}/.lock)"; fi
  fi
}

# Java major version of the `java` on PATH (0 when missing).
java_major() {
  local line version
  command -v java >/dev/null 2>&1 || {
    echo 0
    return
  }
  line="$(java -version 2>&1 | head -n 1)"
  version="$(printf '%s' "${line}" | sed -E 's/.*version "([0-9]+)(\.([0-9]+))?.*/\1 \3/')"
  # shellcheck disable=SC2086 # split "major minor" on purpose
  set -- ${version}
  if [[ "${1:-0}" == 1 ]]; then echo "${2:-0}"; else echo "${1:-0}"; fi
}

# Lists (one per line) what install.sh would still have to provide.
missing_prerequisites() {
  find_program mariadbd mysqld >/dev/null || echo "program: mariadbd (apt: mariadb-server)"
  find_program mariadb-install-db mysql_install_db >/dev/null || echo "program: mariadb-install-db (apt: mariadb-server)"
  find_program mariadb mysql >/dev/null || echo "program: mariadb (apt: mariadb-client)"
  find_program mariadb-admin mysqladmin >/dev/null || echo "program: mariadb-admin (apt: mariadb-client)"
  find_program redis-server >/dev/null || echo "program: redis-server (apt: redis-server)"
  find_program redis-cli >/dev/null || echo "program: redis-cli (apt: redis-tools)"
  find_program openssl >/dev/null || echo "program: openssl (apt: openssl)"
  if [[ "$(java_major)" -lt 17 ]]; then echo "program: java >= 17 (apt: openjdk-17-jre-headless)"; fi
  [[ -f "${KAFKA_LIBS_MARKER}" ]] || echo "kafka jars: ${KAFKA_LIBS} (Maven Central)"
}

INSTALL_HINT="sudo npm run services:install"
