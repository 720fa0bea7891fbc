#!/usr/bin/env bash
# Runs the OpenAI Node SDK suite against a real Quiver: builds and starts the server on a free
# loopback port with a throwaway data directory and key, waits for /readyz, runs `npm ci` and
# `node --test`, then stops the server. Works from a fresh clone (needs .NET 10, Node 20+, npm).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

data_dir="$(mktemp -d)"
log="$data_dir/server.log"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$data_dir"
}
trap cleanup EXIT

port="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close();})")"
export QUIVER_API_KEY="node-sdk-$RANDOM$RANDOM"
export QUIVER_OPENAI_BASE_URL="http://127.0.0.1:$port/v1"

echo "Building the server..."
dotnet build "$root/src/Quiver.Server" -c Release -v quiet -nologo

echo "Starting Quiver on 127.0.0.1:$port (log: $log)"
# One ingestion worker: a batch of a few dozen files is still running when the suite cancels it.
dotnet run --project "$root/src/Quiver.Server" -c Release --no-build -- serve \
  --urls "http://127.0.0.1:$port" --data-dir "$data_dir/data" --Quiver:Ingestion:Workers=1 --Logging:LogLevel:Default=Warning >"$log" 2>&1 &
server_pid=$!

(cd "$here" && npm ci --no-audit --no-fund --loglevel=error) &
npm_pid=$!

ready=""
for _ in $(seq 1 240); do
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "Quiver exited before it was ready:" >&2
    cat "$log" >&2
    exit 1
  fi
  if node -e "fetch('http://127.0.0.1:$port/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "Quiver was not ready after 120s:" >&2
  cat "$log" >&2
  exit 1
fi
wait "$npm_pid"

cd "$here"
status=0
node --test --test-concurrency=1 --test-reporter=spec || status=$?
if [ "$status" -ne 0 ]; then
  echo "--- server log (last 80 lines) ---" >&2
  tail -n 80 "$log" >&2
fi
exit "$status"
