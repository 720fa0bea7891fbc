#!/usr/bin/env bash
# Upload throughput and server memory for one large file through the real server and HTTP stack.
# Usage: bench/scripts/upload-throughput.sh [size_mb]   (default 200)
set -euo pipefail
cd "$(dirname "$0")/../.."
size_mb=${1:-200}
port=18123
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT

dotnet build src/Quiver.Server -c Release -v q -nologo >/dev/null
head -c "$((size_mb * 1024 * 1024))" /dev/urandom > "$work/upload.bin"

QUIVER_API_KEY=bench dotnet src/Quiver.Server/bin/Release/net10.0/Quiver.Server.dll serve \
  --urls "http://127.0.0.1:$port" --data-dir "$work/data" >"$work/server.log" 2>&1 &
server=$!
until curl -sf "http://127.0.0.1:$port/readyz" >/dev/null; do sleep 0.2; done
# Warm up the upload path so JIT and first-use costs are not in the figure.
curl -sf "http://127.0.0.1:$port/v1/files" -H "Authorization: Bearer bench" -F file=@README.md -F purpose=assistants >/dev/null

rss_before=$(awk '/VmRSS/ {print $2}' /proc/$server/status)
start=$(date +%s.%N)
curl -sf "http://127.0.0.1:$port/v1/files" -H "Authorization: Bearer bench" \
  -F file=@"$work/upload.bin" -F purpose=assistants >/dev/null
end=$(date +%s.%N)
hwm=$(awk '/VmHWM/ {print $2}' /proc/$server/status)

awk -v s="$start" -v e="$end" -v mb="$size_mb" -v before="$rss_before" -v hwm="$hwm" 'BEGIN {
  t = e - s;
  printf "upload %d MB: %.2f s, %.1f MB/s\n", mb, t, mb / t;
  printf "server RSS before upload: %.0f MB; peak RSS (VmHWM) through the upload: %.0f MB\n", before / 1024, hwm / 1024;
}'
