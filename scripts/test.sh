#!/usr/bin/env bash
# Every test of the project: type-check, lint, build, the TypeScript suite, and the trainer's pytest suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_build
npx tsc --noEmit -p .
npx eslint .
npx vitest run
