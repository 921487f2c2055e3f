#!/usr/bin/env bash
# Every benchmark of BENCHMARKS.md, in the order of that file. Results print as markdown tables with the
# command that produced them. The dev data file is expected at ../shared/data (pass another path to the
# selector and verifier scripts by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_build
npx tsx bench/agentLoop.bench.ts
npx tsx bench/worktrees.bench.ts
# Real repositories are cloned by hand (BENCHMARKS.md says which) and given by path; without them, the generated one only.
npx tsx bench/isolation.bench.ts --synthetic 40000 "$@"
npx tsx bench/runScale.bench.ts
npx tsx bench/parallel.bench.ts
npx tsx bench/sandbox.bench.ts
npx tsx bench/selectorDev.bench.ts
npx tsx bench/verifier/latency.ts
npx tsx bench/store.bench.ts --tasks 1000 --steps 30
bash trainer/setup.sh >/dev/null
OMP_NUM_THREADS=1 trainer/.venv/bin/python bench/trainer/toy_entropy.py --seeds 0 1 2 --lr 1e-3
