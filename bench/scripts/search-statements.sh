#!/usr/bin/env bash
# How many statements one search sends to PostgreSQL, counted by PostgreSQL itself: a fresh database with
# log_statement=all, the real server (any build: pass its Quiver.Server.dll) on it, a store of FILES small files
# with attributes, then SEARCHES searches (hybrid, with an attribute filter), each between two marker statements
# sent by psql; the server's statements logged between a pair are that search's. Background work (idle workers'
# claims, the expiry sweep, the activity flush) is listed apart and not counted as the search's.
# Needs QUIVER_TEST_PG (a role that may CREATE DATABASE and ALTER DATABASE, e.g. .ci/postgres.sh's) and the
# cluster's log file (PG_LOG, default /tmp/quiver-pg/server.log, where .ci/postgres.sh writes it).
# Usage: bench/scripts/search-statements.sh [SERVER_DLL] [SEARCHES=5] [FILES=20]
set -euo pipefail
cd "$(dirname "$0")/../.."
dll=${1:-src/Quiver.Server/bin/Release/net10.0/Quiver.Server.dll}
searches=${2:-5}
files=${3:-20}
pg_log=${PG_LOG:-/tmp/quiver-pg/server.log}
: "${QUIVER_TEST_PG:?set QUIVER_TEST_PG (. /tmp/quiver-pg/env after .ci/postgres.sh)}"

kv() { tr ';' '\n' <<<"$QUIVER_TEST_PG" | sed -n "s/^$1=//Ip" | head -1; }
export PGHOST=$(kv Host) PGPORT=$(kv Port) PGUSER=$(kv Username) PGPASSWORD=$(kv Password)
psql_q() { psql -d "$1" -v ON_ERROR_STOP=1 -qtA -c "$2"; }
db=quiver_stmt_$$
psql_q postgres "CREATE DATABASE $db"
psql_q "$db" "CREATE EXTENSION vector"
psql_q postgres "ALTER DATABASE $db SET log_statement = 'all'"
work=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
url="http://127.0.0.1:$port"
trap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true; psql_q postgres "DROP DATABASE IF EXISTS $db WITH (FORCE)" || true; rm -rf "$work"' EXIT

# Settings in the --Section:Key=value form, which every build since wave 1 accepts.
QUIVER_API_KEY=bench dotnet "$dll" --urls "$url" --Quiver:Storage:Provider=postgres \
  "--ConnectionStrings:Quiver=$QUIVER_TEST_PG;Database=$db" --Quiver:DataDir="$work/data" >"$work/server.log" 2>&1 &
until curl -sf "$url/readyz" >/dev/null; do sleep 0.2; done
auth=(-H "Authorization: Bearer bench")
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }

store=$(curl -sf "${auth[@]}" -H 'Content-Type: application/json' -d '{"name":"statements"}' "$url/v1/vector_stores" | json "['id']")
ids=()
for i in $(seq "$files"); do
  printf 'Document %d about billing, security reviews and the quarterly plan for team %d.\n' "$i" $((i % 3)) >"$work/f$i.txt"
  ids+=("$(curl -sf "${auth[@]}" -F purpose=assistants -F "file=@$work/f$i.txt" "$url/v1/files" | json "['id']")")
done
for i in "${!ids[@]}"; do
  curl -sf "${auth[@]}" -H 'Content-Type: application/json' \
    -d "{\"file_id\":\"${ids[$i]}\",\"attributes\":{\"team\":\"t$((i % 3))\"}}" "$url/v1/vector_stores/$store/files" >/dev/null
done
until [ "$(curl -sf "${auth[@]}" "$url/v1/vector_stores/$store" | json "['file_counts']['completed']")" = "$files" ]; do sleep 0.3; done
sleep 2 # let publication's follow-up work (statistics, activity) settle before the first marker

body='{"query":"security review billing","max_num_results":10,"filters":{"type":"eq","key":"team","value":"t1"}}'
for n in $(seq 0 "$searches"); do
  psql_q "$db" "SELECT 'search-marker-$db-begin-$n'" >/dev/null
  hits=$(curl -sf "${auth[@]}" -H 'Content-Type: application/json' -d "$body" "$url/v1/vector_stores/$store/search" | json "['data'].__len__()")
  psql_q "$db" "SELECT 'search-marker-$db-end-$n'" >/dev/null
  echo "search $n: $hits results" >>"$work/hits"
done
sleep 1 # the log is written asynchronously by the backends

python3 - "$pg_log" "$searches" "$work/hits" "$db" <<'EOF'
import re, sys
log_path, searches, hits, db = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
# One entry per log record: a record's statement text continues on the lines without the "<time> [pid]" prefix.
prefix = re.compile(r"^\d{4}-\d\d-\d\d \S+ \S+ \[(\d+)\] ")
records = []
for line in open(log_path, errors="replace").read().splitlines():
    m = prefix.match(line)
    if m:
        records.append([m.group(1), line[m.end():]])
    elif records:
        records[-1][1] += " " + line.strip()
stmt = re.compile(r"^LOG:  (?:statement|execute [^:]*): (.*)$", re.S)
# Npgsql resets a pooled connection when it is opened again, in the same round trip as the next statement
# (DISCARD ALL, or the statements short of it that keep prepared statements when auto-prepare is on).
reset = "SET SESSION AUTHORIZATION DEFAULT;RESET ALL"
# Work no search sends: idle ingestion workers' claims and wake-up reads, the expiry sweep.
background = re.compile(r"ingestion_jobs|expires_at <")
print(open(hits).read().strip())
shapes = {}
for n in range(searches + 1):
    begin = next(i for i, r in enumerate(records) if f"search-marker-{db}-begin-{n}'" in r[1])
    end = next(i for i, r in enumerate(records) if f"search-marker-{db}-end-{n}'" in r[1])
    own, resets, other = [], 0, []
    pending = {}      # pid -> a BEGIN not yet classified (it belongs with the statement after it)
    in_background = set()  # pids inside a background transaction
    for pid, text in records[begin + 1:end]:
        m = stmt.match(text)
        if not m or "search-marker" in text:
            continue
        text = " ".join(m.group(1).split())
        if text.startswith(reset) or text == "DISCARD ALL":
            resets += 1
            continue
        if text.startswith("BEGIN"):
            pending[pid] = text
            continue
        is_background = pid in in_background or background.search(text) is not None
        target = other if is_background else own
        if pid in pending:
            target.append(pending.pop(pid))
            if is_background:
                in_background.add(pid)
        target.append(text)
        if text in ("COMMIT", "ROLLBACK"):
            in_background.discard(pid)
    label = "first search" if n == 0 else f"search {n}"
    print(f"{label}: {len(own)} statements, {resets} connection resets; background not counted: {len(other)}")
    if n > 0:
        shapes.setdefault(tuple(t[:110] for t in own), []).append(n)
for shape, ns in sorted(shapes.items(), key=lambda kv: -len(kv[1])):
    print(f"searches {ns}: {len(shape)} statements")
    for t in shape:
        print("   ", t)
EOF
