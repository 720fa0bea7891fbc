#!/usr/bin/env bash
# What metrics cost a search: the real server (embedded default, local model) twice on the same data
# directory, once with Quiver:Telemetry:Metrics=true (OpenTelemetry listening, /metrics served and scraped
# every 5 s) and once with it off (no listener: every instrument is a no-op), ROUNDS times, the order swapped
# every round; each run warms up with 200 searches, then sends SEARCHES sequential searches over one keep-alive
# connection and reports p50/p95 of the search request's wall time; a last line sums the rounds up.
# Usage: bench/scripts/telemetry-overhead.sh [ROUNDS=3] [SEARCHES=400]
set -euo pipefail
cd "$(dirname "$0")/../.."
rounds=${1:-3}
searches=${2:-400}
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT
dotnet build src/Quiver.Server -c Release -v q -nologo >/dev/null
dll=src/Quiver.Server/bin/Release/net10.0/Quiver.Server.dll
port=18931
export QUIVER_API_KEY=bench QUIVER_URL="http://127.0.0.1:$port"

# On two or more cores the server runs on one and the client (and the scraper) on another, so they do not
# take turns on one core: that scheduling, not the instruments, was most of the round-to-round spread.
server_cpu=(); client_cpu=()
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then server_cpu=(taskset -c 1); client_cpu=(taskset -c 0); fi

start() { # $1 = true|false
  "${server_cpu[@]}" dotnet "$dll" serve --urls "$QUIVER_URL" --data-dir "$work/data" --Quiver:Telemetry:Metrics="$1" >"$work/server.log" 2>&1 &
  server=$!
  until curl -sf "$QUIVER_URL/readyz" >/dev/null; do sleep 0.2; done
}
stop() { kill "$server"; wait "$server" 2>/dev/null || true; }

# Seed once: the repository's docs as a store (dogfooding the ingest verb).
start true
dotnet "$dll" ingest docs --store bench --include '**/*.md' >/dev/null
stop

for round in $(seq "$rounds"); do
  # Odd rounds measure on then off, even rounds off then on, so neither setting always runs first.
  order="true false"; [ $((round % 2)) -eq 0 ] && order="false true"
  for metrics in $order; do
    start "$metrics"
    scraper=""
    if [ "$metrics" = true ]; then
      (while true; do "${client_cpu[@]}" curl -sf "$QUIVER_URL/metrics" >/dev/null; sleep 5; done) & scraper=$!
    fi
    "${client_cpu[@]}" python3 - "$port" "$searches" "$metrics" "$round" <<'PY' | tee -a "$work/rounds"
import http.client, json, statistics, sys, time
port, n, metrics, rnd = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
c = http.client.HTTPConnection("127.0.0.1", port)
h = {"Authorization": "Bearer bench", "Content-Type": "application/json"}
def call(method, path, body=None):
    c.request(method, path, body=json.dumps(body) if body is not None else None, headers=h)
    r = c.getresponse(); data = r.read()
    assert r.status == 200, (r.status, data[:200])
    return json.loads(data)
store = next(s["id"] for s in call("GET", "/v1/vector_stores?limit=100")["data"] if s["name"] == "bench")
queries = ["how are ingestion jobs fenced", "cancel a batch", "postgres connection budget", "hybrid ranking fusion",
           "rate limit per key", "console in the browser", "crash loop invariants", "what does metrics expose"]
for q in queries * 25:  # warm-up: 200 searches, past tiered compilation of both paths
    call("POST", f"/v1/vector_stores/{store}/search", {"query": q})
times = []
for i in range(n):
    t = time.perf_counter()
    call("POST", f"/v1/vector_stores/{store}/search", {"query": queries[i % len(queries)]})
    times.append((time.perf_counter() - t) * 1000)
times.sort()
print(f"round {rnd} metrics={metrics:5}  p50 {statistics.median(times):6.2f} ms  p95 {times[int(len(times)*0.95)]:6.2f} ms  ({n} searches)")
PY
    [ -n "$scraper" ] && kill "$scraper" 2>/dev/null || true
    stop
  done
done

# The summary: the median and mean over the rounds of each setting's p50, and what metrics add.
python3 - "$work/rounds" <<'PY'
import re, statistics, sys
p50 = {"true": [], "false": []}
for line in open(sys.argv[1]):
    m = re.search(r"metrics=(\w+)\s+p50\s+([\d.]+)", line)
    p50[m.group(1)].append(float(m.group(2)))
on, off = p50["true"], p50["false"]
print(f"p50 over {len(on)} rounds: metrics on median {statistics.median(on):.2f} mean {statistics.mean(on):.2f} ms, "
      f"off median {statistics.median(off):.2f} mean {statistics.mean(off):.2f} ms; "
      f"overhead {100 * (statistics.median(on) / statistics.median(off) - 1):+.1f} % on the medians, "
      f"{100 * (statistics.mean(on) / statistics.mean(off) - 1):+.1f} % on the means")
PY
