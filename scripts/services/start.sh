#!/usr/bin/env bash
# `npm run start:services`: the all-in-one server on the local MariaDB, Redis and Kafka that
# `npm run services:up` started. `npm start` reads only the environment, so this loads their URLs from
# .env.services first, and turns on the demo concert and dev tokens that only the embedded mode has by default.
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
env_file="${SERVICES_ENV_FILE:-${root}/.env.services}"
if [[ ! -f "${env_file}" ]]; then
  echo "no ${env_file}: start the services first with: npm run services:up" >&2
  exit 66
fi
set -a
# shellcheck source=/dev/null
. "${env_file}"
set +a
export SEED_DEMO="${SEED_DEMO:-1}" DEV_AUTH="${DEV_AUTH:-1}"
cd "${root}"
exec node_modules/.bin/tsx server/main.ts
