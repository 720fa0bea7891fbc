#!/usr/bin/env bash
# Installs PostgreSQL 15 (Debian 12) with pgvector 0.8.0 built from Debian trixie's source
# package, starts a throwaway cluster on 127.0.0.1 (free port) and writes the test connection
# string. Idempotent; run as root. Usage:
#   .ci/postgres.sh [ENV_FILE]      (default ENV_FILE: /tmp/quiver-pg/env)
#   . ENV_FILE                      -> exports QUIVER_TEST_PG
# Re-running reuses the installed packages and an already running cluster.
set -euo pipefail

ENV_FILE=${1:-/tmp/quiver-pg/env}
PG_MAJOR=15
PG_BIN=/usr/lib/postgresql/$PG_MAJOR/bin
PG_CONFIG=$PG_BIN/pg_config
PGVECTOR_VERSION=0.8.0
STATE=/tmp/quiver-pg          # cluster data, socket, logs
WORK=/var/tmp/quiver-pgvector # trixie source lists and build tree
ROLE=quiver
PASSWORD=quiver
DB=quiver

log() { echo "[postgres.sh] $*" >&2; }
export DEBIAN_FRONTEND=noninteractive

# 1. PostgreSQL server from Debian.
if [ ! -x "$PG_BIN/postgres" ]; then
  log "installing postgresql-$PG_MAJOR"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "postgresql-$PG_MAJOR" postgresql-contrib >/dev/null
fi

# 2. pgvector from trixie's source package (Debian 12 has no binary package).
ext_dir=$("$PG_CONFIG" --sharedir 2>/dev/null || echo "/usr/share/postgresql/$PG_MAJOR")/extension
if [ ! -f "$ext_dir/vector--$PGVECTOR_VERSION.sql" ] && [ ! -f "/usr/share/postgresql/$PG_MAJOR/extension/vector--$PGVECTOR_VERSION.sql" ]; then
  log "building pgvector $PGVECTOR_VERSION"
  server_version=$(dpkg-query -W -f='${Version}' "postgresql-$PG_MAJOR")
  # Headers pinned to the installed server: unpinned, apt would upgrade the server too.
  apt-get install -y -qq --no-install-recommends \
    "postgresql-server-dev-$PG_MAJOR=$server_version" build-essential dpkg-dev >/dev/null 2>&1 || {
      apt-get update -qq
      apt-get install -y -qq --no-install-recommends \
        "postgresql-server-dev-$PG_MAJOR=$server_version" build-essential dpkg-dev >/dev/null
    }
  mkdir -p "$WORK/lists/partial"
  echo "deb-src http://deb.debian.org/debian trixie main" > "$WORK/trixie-src.list"
  apt_trixie=(-o "Dir::Etc::sourcelist=$WORK/trixie-src.list" -o Dir::Etc::sourceparts=/dev/null
              -o "Dir::State::Lists=$WORK/lists")
  apt-get "${apt_trixie[@]}" update -qq
  rm -rf "$WORK/src" && mkdir -p "$WORK/src" && chmod 777 "$WORK/src"
  (cd "$WORK/src" && apt-get "${apt_trixie[@]}" source -qq --download-only "pgvector=$PGVECTOR_VERSION-*" 2>/dev/null \
     || apt-get "${apt_trixie[@]}" source -qq --download-only pgvector)
  (cd "$WORK/src" && dpkg-source -x --no-check ./pgvector_*.dsc build >/dev/null)
  make -s -C "$WORK/src/build" PG_CONFIG="$PG_CONFIG" -j"$(nproc)" >/dev/null
  make -s -C "$WORK/src/build" PG_CONFIG="$PG_CONFIG" install >/dev/null
fi

# 3. Throwaway cluster on 127.0.0.1 only, owned by postgres.
pgrun() { runuser -u postgres -- "$@"; }
mkdir -p "$STATE" && chown postgres:postgres "$STATE"
if [ -f "$STATE/port" ] && pgrun "$PG_BIN/pg_ctl" -D "$STATE/data" status >/dev/null 2>&1; then
  port=$(cat "$STATE/port")
  log "cluster already running on port $port"
else
  if [ ! -f "$STATE/data/PG_VERSION" ]; then
    rm -rf "$STATE/data"
    pgrun "$PG_BIN/initdb" -D "$STATE/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  fi
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  echo "$port" > "$STATE/port"
  pgrun "$PG_BIN/pg_ctl" -D "$STATE/data" -l "$STATE/server.log" -w -t 60 start \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $STATE -c max_connections=300 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c maintenance_work_mem=1GB" >/dev/null
  log "cluster started on 127.0.0.1:$port (data $STATE/data)"
fi

psql_su() { pgrun "$PG_BIN/psql" -h "$STATE" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }
if [ "$(psql_su -c "SELECT 1 FROM pg_roles WHERE rolname = '$ROLE'")" != 1 ]; then
  psql_su -c "CREATE ROLE $ROLE LOGIN SUPERUSER PASSWORD '$PASSWORD'"
fi
if [ "$(psql_su -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != 1 ]; then
  psql_su -c "CREATE DATABASE $DB OWNER $ROLE"
fi
pgrun "$PG_BIN/psql" -h "$STATE" -p "$port" -U postgres -d "$DB" -v ON_ERROR_STOP=1 -qtA \
  -c "CREATE EXTENSION IF NOT EXISTS vector" >/dev/null

conn="Host=127.0.0.1;Port=$port;Username=$ROLE;Password=$PASSWORD;Database=$DB"
mkdir -p "$(dirname "$ENV_FILE")"
echo "export QUIVER_TEST_PG='$conn'" > "$ENV_FILE"
echo "QUIVER_TEST_PG=$conn"
