#!/usr/bin/env bash
# Every test of the project: type-check, lint, build, the TypeScript suite (plain Node; a real small model on
# llama.cpp's server included), the trainer's and the local verifier's pytest suites (CPU, tiny models), and the
# extension's suite inside a real VS Code. Installs what it needs first: npm packages, the Python environments
# of the trainer (PyTorch: several GB, once) and of the local verifier's training (scikit-learn, ONNX), and
# llama.cpp's server with SmolLM2-135M-Instruct (scripts/llama-setup.sh, built once).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_build
mkdir -p test-artifacts

npx tsc --noEmit -p .
npm run -s lint

# The trainers' environments; the TypeScript suite also drives both through them (entropo train, and
# retraining the local verifier on exported decisions).
bash trainer/setup.sh test >/dev/null
verifier_python=$(bash trainer/verifier/setup.sh | tail -n 1)

# llama.cpp's server and a small real model for the real-model tests (test/llama): built once per machine
# (5-20 minutes on 2 cores), at once afterwards. Exit 5: the machine lacks a prerequisite, and those tests
# skip with the reason.
bash scripts/llama-setup.sh >/dev/null || [ $? -eq 5 ]

status=0
# Every temporary file of the suites (theirs, pytest's tmp_path, PyTorch's) goes in one folder, removed
# afterwards; so do the caches and settings that the toolchains the tests run keep in the home folder (Go's
# build cache and telemetry counters); the editor's suite keeps its own (scripts/e2e.sh).
suite_tmp=$(mktemp -d "${TMPDIR:-/tmp}/entropo-tests-XXXXXX")
trap 'rm -rf "$suite_tmp"' EXIT
export XDG_CACHE_HOME=$suite_tmp/cache XDG_CONFIG_HOME=$suite_tmp/config
TMPDIR=$suite_tmp npx vitest run --reporter=default --reporter=json --outputFile.json=test-artifacts/vitest.json || status=1
{ TMPDIR=$suite_tmp trainer/.venv/bin/python -m pytest -p no:cacheprovider --basetemp "$suite_tmp/pytest-trainer" trainer/tests 2>&1 || echo "pytest-failed"; } | tee test-artifacts/pytest-trainer.log
{ TMPDIR=$suite_tmp "$verifier_python" -m pytest -q -p no:cacheprovider --basetemp "$suite_tmp/pytest-verifier" trainer/verifier/tests 2>&1 || echo "pytest-failed"; } | tee test-artifacts/pytest-verifier.log
grep -q '^pytest-failed$' test-artifacts/pytest-trainer.log test-artifacts/pytest-verifier.log && status=1
{ bash scripts/e2e.sh 2>&1 || echo "e2e-failed"; } | tee test-artifacts/e2e.log
grep -q '^e2e-failed$' test-artifacts/e2e.log && status=1

# One closing line over all suites.
node -e '
  const fs = require("fs");
  const v = JSON.parse(fs.readFileSync("test-artifacts/vitest.json", "utf8"));
  // pytest closes with e.g. "120 passed, 2 skipped in 61.2s"; take that line of each suite.
  const closing = ["trainer", "verifier"].map((name) => fs.readFileSync(`test-artifacts/pytest-${name}.log`, "utf8")
    .split("\n").filter((l) => / in [\d.]+s/.test(l)).pop() || "");
  const count = (word) => closing.reduce((n, line) => n + Number((line.match(new RegExp("(\\d+) " + word)) || [0, 0])[1]), 0);
  const e2eLine = fs.readFileSync("test-artifacts/e2e.log", "utf8").split("\n").filter((l) => /^\d+ passed, \d+ failed/.test(l)).pop() || "0 passed, 1 failed";
  const [, e2ePassed, e2eFailed] = e2eLine.match(/^(\d+) passed, (\d+) failed/);
  const e2e = { passed: Number(e2ePassed), failed: Number(e2eFailed) };
  const passed = v.numPassedTests + count("passed") + e2e.passed;
  const failed = v.numFailedTests + count("failed") + count("error") + e2e.failed;
  const skipped = v.numPendingTests + v.numTodoTests + count("skipped");
  console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
'
exit $status
