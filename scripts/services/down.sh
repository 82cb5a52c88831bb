#!/usr/bin/env bash
# Stops what scripts/services/up.sh started, by the pids in its pid files
# (TERM, wait, then KILL after a timeout), and removes the pid files.
# Data is kept unless --purge is given. Idempotent.
#
# Usage: npm run services:down                   # stop all three
#        bash scripts/services/down.sh kafka redis   # stop only these
#        bash scripts/services/down.sh --purge     # stop all and delete their data
set -euo pipefail

# shellcheck source=scripts/services/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

purge=0
services=()
for arg in "$@"; do
  case "${arg}" in
    --purge) purge=1 ;;
    mariadb | redis | kafka) services+=("${arg}") ;;
    -h | --help)
      sed -n '2,9p' "${BASH_SOURCE[0]}"
      exit 0
      ;;
    *) die "unknown argument '${arg}' (expected: --purge, mariadb, redis, kafka)" ;;
  esac
done
# Stop order is always Kafka, Redis, then MariaDB, whatever order was asked.
requested=" ${services[*]-} "
services=()
for service in kafka redis mariadb; do
  if [[ "${requested}" == "  " || "${requested}" == *" ${service} "* ]]; then services+=("${service}"); fi
done
if [[ "${purge}" == 1 && ${#services[@]} -ne 3 ]]; then
  die "--purge deletes all service data; it cannot be combined with a list of services"
fi

if [[ ! -d "${SERVICES_DIR}" ]]; then
  log "nothing to stop (${SERVICES_DIR} does not exist)"
  if [[ "${purge}" == 1 ]]; then rm -f "${ENV_FILE}"; fi
  exit 0
fi
take_lock

# stop_service NAME PID_FILE PATTERN TIMEOUT_SECONDS
stop_service() {
  local name="$1" pid_file="$2" pattern="$3" timeout="$4" pid deadline
  if ! pid="$(live_pid "${pid_file}" "${pattern}")"; then
    if [[ -f "${pid_file}" ]]; then
      log "${name}: not running (removing stale pid file)"
      rm -f "${pid_file}"
    else
      log "${name}: not running"
    fi
    return
  fi
  log "${name}: stopping pid ${pid}"
  kill -TERM "${pid}" 2>/dev/null || true
  deadline=$(( $(now_ms) + timeout * 1000 ))
  while kill -0 "${pid}" 2>/dev/null; do
    if (( $(now_ms) >= deadline )); then
      warn "${name}: pid ${pid} still running after ${timeout}s; sending KILL"
      kill -KILL "${pid}" 2>/dev/null || true
      sleep 0.5
      break
    fi
    sleep 0.2
  done
  rm -f "${pid_file}"
  log "${name}: stopped"
}

for service in "${services[@]}"; do
  case "${service}" in
    kafka) stop_service kafka "${KAFKA_PID_FILE}" "${KAFKA_PATTERN}" "${KAFKA_STOP_TIMEOUT:-60}" ;;
    redis) stop_service redis "${REDIS_PID_FILE}" "${REDIS_PATTERN}" "${REDIS_STOP_TIMEOUT:-15}" ;;
    mariadb) stop_service mariadb "${MARIADB_PID_FILE}" "${MARIADB_PATTERN}" "${MARIADB_STOP_TIMEOUT:-60}" ;;
  esac
done

if [[ "${purge}" == 1 ]]; then
  case "$(cd -- "${SERVICES_DIR}" && pwd -P)" in
    / | "$(cd -- "${HOME:-/}" && pwd -P)" | "${REPO_ROOT}")
      die "refusing to delete SERVICES_DIR=${SERVICES_DIR}"
      ;;
  esac
  log "purging ${SERVICES_DIR} and ${ENV_FILE}"
  rm -rf "${SERVICES_DIR}"
  rm -f "${ENV_FILE}" "${MARIADB_SOCKET}"
else
  log "data kept in ${SERVICES_DIR} (delete it with: npm run services:down -- --purge)"
fi
