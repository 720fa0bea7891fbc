#!/usr/bin/env bash
# Coverage-guided fuzzing of the extractors and request parsers with SharpFuzz + AFL++ (Debian's afl++).
# Usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]      (default 60 s, every target)
# Targets: pdf docx pptx xlsx html json csv text filter chunking attributes (see fuzz/Quiver.Fuzz/FuzzTargets.cs).
# Seeds: fuzz/corpus/TARGET. New crashes are copied to fuzz/crashes/TARGET (commit them with the fix: the
# replay test in tests/Quiver.Tests/Fuzz runs every one on each test run). Exits 1 when a target crashed.
# Installs afl++ (apt) and the SharpFuzz instrumenter (dotnet tool) when missing; run as root in CI.
set -euo pipefail
cd "$(dirname "$0")/.."
SECONDS_PER_TARGET=${1:-60}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(pdf docx pptx xlsx html json csv text filter chunking attributes)

log() { echo "[fuzz] $*" >&2; }
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1

if ! command -v afl-fuzz >/dev/null; then
  log "installing afl++"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends afl++ >/dev/null
fi
TOOLS=/tmp/quiver-fuzz-tools
if [ ! -x "$TOOLS/sharpfuzz" ]; then
  log "installing SharpFuzz.CommandLine"
  dotnet tool install SharpFuzz.CommandLine --version 2.3.0 --tool-path "$TOOLS" >/dev/null
fi

OUT=/tmp/quiver-fuzz-build
rm -rf "$OUT"
dotnet publish fuzz/Quiver.Fuzz -c Release -o "$OUT" -v quiet -nologo >/dev/null
# Instrument our code and the third-party parsers it drives, so AFL sees coverage inside them too.
for dll in Quiver.Core.dll Quiver.Server.dll UglyToad.PdfPig*.dll DocumentFormat.OpenXml*.dll AngleSharp.dll; do
  for f in "$OUT"/$dll; do
    [ -f "$f" ] && "$TOOLS/sharpfuzz" "$f" >/dev/null
  done
done

export AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1
crashed=0
for target in "${TARGETS[@]}"; do
  findings=/tmp/quiver-fuzz-findings/$target
  rm -rf "$findings"; mkdir -p "$(dirname "$findings")"
  log "$target: ${SECONDS_PER_TARGET}s"
  afl-fuzz -i "fuzz/corpus/$target" -o "$findings" -t 10000 -m none -V "$SECONDS_PER_TARGET" -- \
    dotnet "$OUT/Quiver.Fuzz.dll" "$target" > "/tmp/quiver-fuzz-$target.log" 2>&1 || true
  stats=$(ls "$findings"/*/fuzzer_stats 2>/dev/null | head -1 || true)
  if [ -z "$stats" ]; then
    log "$target: afl-fuzz did not start; see /tmp/quiver-fuzz-$target.log"; tail -5 "/tmp/quiver-fuzz-$target.log" >&2
    crashed=1; continue
  fi
  execs=$(awk -F: '/^execs_done/ {gsub(/ /,"",$2); print $2}' "$stats")
  paths=$(awk -F: '/^corpus_count/ {gsub(/ /,"",$2); print $2}' "$stats")
  crashes=$(find "$findings" -path '*/crashes/id*' -type f | wc -l)
  log "$target: $execs execs, $paths corpus entries, $crashes crashes"
  if [ "$crashes" -gt 0 ]; then
    mkdir -p "fuzz/crashes/$target"
    find "$findings" -path '*/crashes/id*' -type f -exec sh -c 'cp "$1" "fuzz/crashes/$2/$(sha1sum "$1" | cut -c1-16)"' _ {} "$target" \;
    # Replayed on the uninstrumented build: instrumented code needs the fuzzer's shared memory.
    dotnet fuzz/Quiver.Fuzz/bin/Release/net10.0/Quiver.Fuzz.dll replay "$target" "fuzz/crashes/$target" || true
    crashed=1
  fi
done
exit $crashed
