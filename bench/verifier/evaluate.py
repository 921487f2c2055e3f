"""Honest evaluation of the local verifier's top-1 pick on the SWE-bench Lite dev candidates.

Everything is cross-validated by issue (5-fold GroupKFold, reshuffled per seed; no issue is ever in training and
test at once). Reported per selector: top-1 resolved rate averaged over seeds, the min-max over seeds (split
noise), and a 95% bootstrap interval over the 135 issues (sampling noise, the larger one).

- baselines computed here from the same features file: random, oracle, majority vote over whitespace-normalized
  patches, smallest patch, most common set of source files, "drop patches without a source change, then random";
- every model configuration at fixed settings (choosing the best of these afterwards is optimistic);
- an ablation: one configuration retrained without each group of features;
- the shipped recipe, nested: inside each outer training fold, train.py's choice of configuration by inner
  grouped CV, then fit, then score the outer test fold. This is the figure to quote.

  trainer/verifier/.venv/bin/python bench/verifier/evaluate.py \
      [--features bench/out/verifier/features-dev.jsonl] [--seeds 10] [--outer-seeds 5] [--inner-seeds 2] \
      [--out bench/verifier/results.json]
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "trainer" / "verifier"))

from local_verifier.cv import CvResult, cross_validate, nested, picks  # noqa: E402
from local_verifier.data import FeatureSet, load  # noqa: E402
from local_verifier.models import CONFIGS  # noqa: E402
from local_verifier.ranking import oracle, random_pick  # noqa: E402

FOLDS = 5
ABLATION_CONFIG = "logreg_C0.1"
# Feature groups by name prefix order in features.ts: the candidate alone, against the issue, against the
# other candidates, and its standing among them.
GROUPS = {
    "issue": ["file_mentioned_share", "any_file_mentioned", "traceback_file_share", "function_in_issue_share",
              "function_in_traceback", "identifier_precision", "identifier_recall", "code_identifier_recall",
              "identifier_precision_z"],
    "agreement": ["agree_exact", "agree_source_exact", "agree_file_set", "file_jaccard_mean", "line_jaccard_mean",
                  "line_jaccard_max", "function_jaccard_mean", "file_support", "line_jaccard_z"],
    "relative size": ["size_z", "size_rank", "is_smallest"],
}


def baselines(fs: FeatureSet) -> dict[str, float]:
    """Static selectors, each an argmax over one feature column (ties count as an even split)."""
    col = {name: fs.X[:, i].astype(np.float64) for i, name in enumerate(fs.names)}
    rules = {
        "majority vote (normalized patch)": col["agree_exact"],
        "smallest patch (fewest changed lines)": -col["log_all_changed"],
        "smallest patch (fewest characters)": -col["log_chars"],
        "most common set of source files": col["agree_file_set"],
        "drop patches without a source change, then random": -col["no_source_file"],
    }
    out = {"random pick": random_pick(fs.y, fs.groups), "oracle (any resolved)": oracle(fs.y, fs.groups)}
    out.update({name: float(picks(score, fs).mean()) for name, score in rules.items()})
    return out


def without(fs: FeatureSet, drop: list[str]) -> FeatureSet:
    keep = [i for i, name in enumerate(fs.names) if name not in drop]
    return FeatureSet([fs.names[i] for i in keep], fs.schema, fs.X[:, keep], fs.y, fs.groups, fs.candidate_ids, fs.sha256)


def summary(result: CvResult) -> dict:
    low, high = result.bootstrap_ci()
    return {"top1": round(result.mean, 4), "seed_min": round(min(result.per_seed), 4),
            "seed_max": round(max(result.per_seed), 4), "ci95": [round(low, 4), round(high, 4)]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", type=Path, default=ROOT / "bench/out/verifier/features-dev.jsonl")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--outer-seeds", type=int, default=5)
    parser.add_argument("--inner-seeds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/verifier/results.json")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore")
    fs = load([args.features])
    results: dict = {"issues": int(len(set(fs.groups))), "candidates": int(len(fs.y)), "schema": fs.schema,
                     "folds": FOLDS, "baselines": baselines(fs), "fixed": {}}
    for name, value in results["baselines"].items():
        print(f"{value:.3f}  {name}", flush=True)
    seeds = list(range(args.seeds))
    for name in CONFIGS:
        started = time.perf_counter()
        results["fixed"][name] = summary(cross_validate(fs, name, FOLDS, seeds))
        print(f"{results['fixed'][name]}  {name}  ({time.perf_counter() - started:.0f} s)", flush=True)
    results["ablation"] = {"config": ABLATION_CONFIG, "all features": results["fixed"][ABLATION_CONFIG]}
    for group, names in GROUPS.items():
        results["ablation"][f"without {group}"] = summary(cross_validate(without(fs, names), ABLATION_CONFIG, FOLDS, seeds))
        print(f"{results['ablation'][f'without {group}']}  {ABLATION_CONFIG} without {group}", flush=True)
    started = time.perf_counter()
    outer, chosen = nested(fs, list(CONFIGS), FOLDS, list(range(args.outer_seeds)),
                           list(range(100, 100 + args.inner_seeds)))
    results["nested"] = {**summary(outer), "chosen": {c: chosen.count(c) for c in sorted(set(chosen))},
                         "outer_seeds": args.outer_seeds, "inner_seeds": args.inner_seeds}
    print(f"{results['nested']}  nested ({time.perf_counter() - started:.0f} s)", flush=True)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
