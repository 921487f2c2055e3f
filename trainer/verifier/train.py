"""Trains the local verifier (signal 7b) on labelled candidate features and exports it to ONNX.

Algorithm: every configuration of local_verifier.models.CONFIGS (pointwise logistic regression, pairwise and
listwise linear rankers, gradient boosting, a small MLP) is scored by top-1 resolved rate under 5-fold
GroupKFold by issue, repeated over --seeds shuffles; the best one is refit on all rows, exported with
skl2onnx, and checked against onnxruntime on every row (max abs diff < 1e-5, else nothing is written).
The honest estimate of this whole recipe (choice included) is the nested CV of bench/verifier/evaluate.py.

Extra labelled rows (the user's own decisions: `entropo export --format verifier-features --out FILE`) are
added with --extra, or trained on alone with --features FILE; each task is a group like any issue.

  npx tsx bench/verifier/extractFeatures.ts
  trainer/verifier/.venv/bin/python trainer/verifier/train.py \
      --features bench/out/verifier/features-dev.jsonl [--extra my-decisions.jsonl ...] [--config auto] \
      [--out models/local-verifier] [--fixture test/core/verify/local/fixtures/parity.json \
       --raw ../shared/data/swebench-lite-candidates-dev.jsonl]
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_verifier.data import load  # noqa: E402
from local_verifier.training import MODEL_FILE, fit, write_fixture, write_model  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, required=True)
    parser.add_argument("--extra", type=Path, nargs="*", default=[])
    parser.add_argument("--config", default="auto")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("models/local-verifier"))
    parser.add_argument("--fixture", type=Path)
    parser.add_argument("--raw", type=Path, help="the labelled candidates file the features came from (for --fixture)")
    args = parser.parse_args(argv)
    if args.fixture and not args.raw:
        parser.error("--fixture needs --raw")
    sources = [args.features, *args.extra]
    fs = load(sources)
    groups = len(set(fs.groups.tolist()))
    if groups < args.folds:
        parser.error(f"{groups} task(s) or issue(s) with labels, fewer than --folds {args.folds}: "
                     f"record more decisions, add the dev features with --extra, or lower --folds")
    config, scorer, means = fit(fs, args.config, args.folds, list(range(args.seeds)))
    for name, value in sorted(means.items(), key=lambda kv: -kv[1]):
        print(f"cv top-1 {value:.3f}  {name}")
    meta = write_model(args.out, fs, config, scorer, means, [p.name for p in sources])
    print(f"chose {config}; wrote {args.out / MODEL_FILE} ({meta['onnx_bytes']} bytes), "
          f"parity max abs diff {meta['parity_max_abs_diff']:.2e} over {meta['rows']} rows")
    if args.fixture:
        ids = write_fixture(args.fixture, fs, scorer, (args.out / MODEL_FILE).read_bytes(), args.raw)
        print(f"wrote {args.fixture} ({', '.join(ids)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
