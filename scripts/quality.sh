#!/usr/bin/env bash
# Quality gates (issue 14): lint, format check, types, documentation build (warnings as errors).
# Needs the lint and docs extras: pip install -e ".[test,docs,lint]".
# Runs every gate and exits non-zero if any failed (so one run reports all of them).
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
run() {
    echo "== $*"
    "$@" || { echo "FAILED: $*"; status=1; }
}
run ruff check --output-format concise src tests
run ruff format --check src tests
run mypy
NO_MKDOCS_2_WARNING=1 run mkdocs build --strict --quiet --site-dir "${TMPDIR:-/tmp}/dipolehnl-site"
exit $status
