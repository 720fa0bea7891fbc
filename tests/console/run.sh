#!/usr/bin/env bash
# Browser tests of the web console: builds the server (Release), checks for Debian's Chromium,
# runs `npm ci` (playwright-core only; it downloads no browser) and `node --test`. The tests start
# the server themselves (harness.mjs). Without Chromium: skipped locally, a failure under CI=true
# (.ci/run installs it first). Screenshots: artifacts/console/*.png.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

chromium="${QUIVER_CHROMIUM:-/usr/bin/chromium}"
if [ ! -x "$chromium" ]; then
  if [ "${CI:-}" = "true" ]; then
    echo "Chromium not found at $chromium: the console browser tests cannot run (apt-get install -y chromium)." >&2
    exit 1
  fi
  echo "Skipping the console browser tests: Chromium not found at $chromium (apt-get install -y chromium)."
  exit 0
fi
export QUIVER_CHROMIUM="$chromium"

if [ "${QUIVER_SKIP_BUILD:-}" != "1" ]; then
  echo "Building the server..."
  dotnet build "$root/src/Quiver.Server" -c Release -v quiet -nologo
fi
(cd "$here" && npm ci --no-audit --no-fund --loglevel=error)

cd "$here"
mkdir -p "$root/artifacts/console"
node --test --test-concurrency=1 --test-reporter=spec console.test.mjs
echo "Screenshots: $root/artifacts/console/"
