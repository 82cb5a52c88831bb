#!/usr/bin/env bash
# Installs what scripts/services/up.sh needs, without Docker:
#   - Debian/Ubuntu packages: mariadb-server, redis-server (+ client tools,
#     a Java >= 17 and Maven when missing), chromium for the browser
#     tests and, when no Korean font is installed, fonts-nanum (about 10 MB)
#     for the Korean screenshots, via apt-get, as root;
#   - the Apache Kafka jars, from Maven Central via Maven, into a cache folder
#     outside the work tree (SERVICES_CACHE_DIR, default ~/.cache/concert-services).
# Idempotent: anything already present is skipped.
#
# Usage: sudo npm run services:install   (= sudo bash scripts/services/install.sh)
set -euo pipefail

# shellcheck source=scripts/services/lib.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/lib.sh"

started_ms="$(now_ms)"

# --- 1. Debian packages ---------------------------------------------------------
apt_wanted=()
want() {
  local pkg
  for pkg in "$@"; do
    [[ " ${apt_wanted[*]-} " == *" ${pkg} "* ]] || apt_wanted+=("${pkg}")
  done
}
find_program mariadbd mysqld >/dev/null || want mariadb-server
find_program mariadb-install-db mysql_install_db >/dev/null || want mariadb-server
find_program mariadb mysql >/dev/null || want mariadb-client
find_program mariadb-admin mysqladmin >/dev/null || want mariadb-client
find_program redis-server >/dev/null || want redis-server
find_program redis-cli >/dev/null || want redis-tools
# The TLS integration test makes its CA and server certificates with it.
find_program openssl >/dev/null || want openssl
# The browser tier drives the distribution's Chromium (playwright-core downloads no browser).
find_program chromium >/dev/null || want chromium
# Without a Hangul font Chromium draws Korean pages as boxes. Nanum is the smallest complete one Debian has
# (fonts-noto-cjk is five times its size).
fc-list :lang=ko 2>/dev/null | grep -q . || want fonts-nanum
need_java=0
if [[ "$(java_major)" -lt 17 ]]; then need_java=1; fi
need_jars=1
if [[ -f "${KAFKA_LIBS_MARKER}" ]]; then need_jars=0; fi
need_maven=0
if [[ "${need_jars}" == 1 ]] && ! command -v mvn >/dev/null 2>&1; then need_maven=1; fi
if [[ "${need_maven}" == 1 ]]; then want maven; fi

if [[ ${#apt_wanted[@]} -gt 0 || "${need_java}" == 1 ]]; then
  described="${apt_wanted[*]-}"
  if [[ "${need_java}" == 1 ]]; then described="${described:+${described} }a Java 17+ runtime"; fi
  log "missing packages: ${described}"
  if [[ ! -f /etc/debian_version ]] || ! command -v apt-get >/dev/null 2>&1; then
    die "this installer only knows Debian/Ubuntu (apt-get). Install by hand: MariaDB >= 10.6 server+client, Redis >= 6 (redis-server, redis-cli), Java >= 17 and Maven, then run: bash scripts/services/install.sh (it then only fetches the Kafka jars)"
  fi
  if [[ "$(id -u)" != 0 ]]; then
    manual="${apt_wanted[*]-}"
    if [[ "${need_java}" == 1 ]]; then manual="${manual:+${manual} }openjdk-17-jre-headless"; fi
    die "installing packages needs root. Run: ${INSTALL_HINT}   (or: sudo apt-get update && sudo apt-get install -y ${manual} && bash scripts/services/install.sh)"
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt_log="$(mktemp)"
  trap 'rm -f "${apt_log}"' EXIT
  run_apt() {
    if ! "$@" >"${apt_log}" 2>&1; then
      tail -n 30 "${apt_log}" >&2
      die "'$*' failed (last lines above)"
    fi
  }
  log "apt-get update"
  t0="$(now_ms)"
  run_apt apt-get update
  if [[ "${need_java}" == 1 ]]; then
    java_pkg=""
    for candidate in openjdk-17-jre-headless openjdk-21-jre-headless default-jre-headless; do
      if apt-cache policy "${candidate}" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        java_pkg="${candidate}"
        break
      fi
    done
    [[ -n "${java_pkg}" ]] || die "no Java 17+ package found in apt (tried openjdk-17/21-jre-headless, default-jre-headless)"
    want "${java_pkg}"
  fi
  log "apt-get install -y ${apt_wanted[*]}"
  run_apt apt-get install -y --no-install-recommends "${apt_wanted[@]}"
  grep -E '^Setting up ' "${apt_log}" | sed -E 's/^Setting up ([^ ]+).*/[services]   installed \1/' || true
  log "apt packages installed in $(( ($(now_ms) - t0) / 1000 ))s"
  for program in mariadbd:mysqld mariadb-install-db:mysql_install_db redis-server redis-cli; do
    # shellcheck disable=SC2086 # split the alternatives on purpose
    find_program ${program//:/ } >/dev/null || die "apt-get finished but '${program%%:*}' is still not on PATH (${PATH})"
  done
  if [[ "$(java_major)" -lt 17 ]]; then
    die "java on PATH is still older than 17 ($(java -version 2>&1 | head -n 1)); select a newer one with: update-alternatives --config java"
  fi
else
  log "apt packages: mariadb-server, redis-server, java $(java_major) already present"
fi

# --- 2. Kafka jars from Maven Central -------------------------------------------
verify_kafka_jars() {
  local core="${KAFKA_LIBS}/kafka_${KAFKA_SCALA_VERSION}-${KAFKA_VERSION}.jar"
  local tools="${KAFKA_LIBS}/kafka-tools-${KAFKA_VERSION}.jar"
  [[ -f "${core}" ]] || return 1
  [[ -f "${tools}" ]] || return 1
  # Zip central directories keep file names uncompressed: grep finds classes
  # without needing unzip or a JDK.
  LC_ALL=C grep -aq 'kafka/Kafka.class' "${core}" || return 1
  LC_ALL=C grep -aq 'kafka/tools/StorageTool.class' "${core}" || return 1
  LC_ALL=C grep -aq 'org/apache/kafka/tools/TopicCommand.class' "${tools}" || return 1
  compgen -G "${KAFKA_LIBS}/log4j-slf4j2-impl-*.jar" >/dev/null || return 1
  compgen -G "${KAFKA_LIBS}/log4j-core-*.jar" >/dev/null || return 1
}

if [[ "${need_jars}" == 0 ]] && verify_kafka_jars; then
  log "kafka ${KAFKA_VERSION} jars already in ${KAFKA_LIBS}"
else
  command -v mvn >/dev/null 2>&1 || die "Maven (mvn) is missing. Run: ${INSTALL_HINT}   (or: sudo apt-get install -y maven)"
  log "fetching kafka ${KAFKA_VERSION} jars from Maven Central into ${KAFKA_LIBS}"
  t0="$(now_ms)"
  build_dir="${KAFKA_HOME}/maven"
  mkdir -p "${build_dir}"
  # Generated, never committed: it lives in the cache folder.
  cat >"${build_dir}/pom.xml" <<EOF
<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by scripts/services/install.sh: only used to download jars. -->
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.concert</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>${KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <!-- Declared first and directly so the slf4j 2 API wins over the 1.7.x
         that kafka_2.13 declares (log4j-slf4j2-impl needs slf4j 2). -->
    <dependency>
      <groupId>org.slf4j</groupId>
      <artifactId>slf4j-api</artifactId>
      <version>${SLF4J_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_${KAFKA_SCALA_VERSION}</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka-tools</artifactId>
      <version>${KAFKA_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j2-impl</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-core</artifactId>
      <version>${LOG4J_VERSION}</version>
    </dependency>
  </dependencies>
</project>
EOF
  staging="${KAFKA_HOME}/libs.partial"
  rm -rf "${staging}"
  log "  (about 55 MB; ~30 s with an empty ~/.m2, a few seconds otherwise)"
  mvn_log="${KAFKA_HOME}/maven.log"
  if ! mvn -q -B -f "${build_dir}/pom.xml" -Dstyle.color=never dependency:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="${staging}" >"${mvn_log}" 2>&1; then
    # Maven's console library prints colour codes even in batch mode.
    sed -E 's/\x1b\[[0-9;]*m//g' "${mvn_log}" | tail -n 40 >&2
    die "Maven could not fetch the Kafka jars (output above, full log ${mvn_log}). Check that Maven Central is reachable, then run again: ${INSTALL_HINT}"
  fi
  rm -rf "${KAFKA_LIBS}"
  mv "${staging}" "${KAFKA_LIBS}"
  verify_kafka_jars || die "the jars in ${KAFKA_LIBS} lack kafka.Kafka / kafka.tools.StorageTool / log4j; delete ${KAFKA_HOME} and run again"
  printf 'kafka=%s log4j=%s slf4j=%s\n' "${KAFKA_VERSION}" "${LOG4J_VERSION}" "${SLF4J_VERSION}" >"${KAFKA_LIBS_MARKER}"
  log "kafka jars: $(find "${KAFKA_LIBS}" -name '*.jar' | wc -l) files, $(du -sh "${KAFKA_LIBS}" | cut -f1), in $(( ($(now_ms) - t0) / 1000 ))s"
fi

# Under sudo, hand the cache to the invoking user so `npm run services:up`
# (without sudo) can read it.
if [[ "$(id -u)" == 0 && -n "${SUDO_USER:-}" && "${SUDO_USER}" != root ]]; then
  chown -R "${SUDO_USER}:" "${SERVICES_CACHE_DIR}" 2>/dev/null || true
fi

log "install done in $(( ($(now_ms) - started_ms) / 1000 ))s. Next: npm run services:up"
