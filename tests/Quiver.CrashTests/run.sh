#!/usr/bin/env bash
# The crash loop (docs/reliability.md): builds the server and this program, then kills and restarts the real
# server on SQLite and PostgreSQL, restarts PostgreSQL under a batch, and fills the data disk.
# Usage: tests/Quiver.CrashTests/run.sh [--kills N] [--seconds S] [--files N] [--seed N] [--only NAME]
#   default (CI): ≥ 10 kills per backend, ~2–3 minutes in all. Longer: --seconds 1800 (or CRASH_SECONDS=1800)
#   keeps killing for that long per backend. PostgreSQL: `. /tmp/quiver-pg/env` first (QUIVER_TEST_PG).
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build tests/Quiver.CrashTests -v q --nologo -clp:ErrorsOnly >/dev/null
exec dotnet tests/Quiver.CrashTests/bin/Debug/net10.0/Quiver.CrashTests.dll \
  --server-dll src/Quiver.Server/bin/Debug/net10.0/Quiver.Server.dll "$@"
