"""Toy check of EntroPO's central claim: from the same preference data, DPO (alpha = beta) narrows the policy,
while EntroPO (alpha > beta) keeps more entropy and more distinct correct solutions for best-of-N.

Task: an issue says tests fail in a module; the agent explores (`look`, `test`, each answered by an
observation), applies one of twelve fixes (`fixa` ... `fixl`, answered by `patched`), then `submits`. Three
fixes are correct, so a task has many distinct correct trajectories. Pipeline, per seed:
  1. a tiny Qwen3 (hidden 64, 2 layers, random init, word-level tokenizer) is trained from scratch with
     SFT on random trajectories (uniform exploration and fix), so it knows the format but not the goal;
  2. it samples 8 trajectories for each of 120 training tasks; (correct, incorrect) pairs become
     multi-turn entropo-dpo lines in the text action format;
  3. the real trainer (entropo_trainer.loop.train, LoRA rank 8 on all linear layers, cosine schedule)
     trains one adapter per method on the same lines;
  4. base and adapters sample N = 16 trajectories at temperature 1 on 40 held-out tasks.
Reported: held-out preference accuracy (DPO implicit reward, the same for every method), mean entropy of
the next-token distribution at each agent turn, distinct correct trajectories and distinct correct fixes
per task, the rate of trajectories that emitted a non-action token, pass@1, best-of-4 and best-of-16 with
a perfect verifier.

Run (about 2 minutes on 2 CPU cores):
  OMP_NUM_THREADS=1 trainer/.venv/bin/python bench/trainer/toy_entropy.py --seeds 0 1 2 --lr 1e-3
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "trainer"))

from entropo_trainer.chat import tokenize_conversation  # noqa: E402
from entropo_trainer.data import Builder, Collator, build_examples, pad_sequences  # noqa: E402
from entropo_trainer.logps import sequence_stats  # noqa: E402
from entropo_trainer.loop import TrainConfig, train  # noqa: E402
from entropo_trainer.losses import sft_loss  # noqa: E402
from entropo_trainer.tiny import CHATML_TOOLS_TEMPLATE, SPECIAL_TOKENS, build_model  # noqa: E402

SYSTEM = "You fix failing tests. Explore with look or test, apply one fix, then submit."
MODULES = ("alpha", "beta", "gamma", "delta")  # names in the issue text; every one fails the same way
FIXES = tuple(f"fix{c}" for c in "abcdefghijkl")
ACTIONS = ("look", "test", *FIXES, "submit")
MAX_ACTIONS = 5
#: Three of the twelve fixes are correct, so every task has many distinct correct trajectories.
CORRECT = {m: {"fixc", "fixf", "fixk"} for m in MODULES}
OBSERVATION = {"look": "module source shown", "test": "2 failed, 5 passed"}
METHODS = {"DPO (alpha = beta = 0.1)": ("dpo", 0.1, 0.1), "EntroPO (alpha 0.11, beta 0.1)": ("entropo-dpo", 0.11, 0.1),
           "EntroPO (alpha 0.15, beta 0.1)": ("entropo-dpo", 0.15, 0.1)}


def tasks(rng: random.Random, n: int) -> list[str]:
    return [rng.choice(MODULES) for _ in range(n)]


def messages(module: str, actions: list[str]) -> list[dict]:
    out = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": f"Tests fail in module {module}."}]
    for action in actions:
        out.append({"role": "assistant", "content": action})
        if action == "submit":
            break
        out.append({"role": "user", "content": OBSERVATION.get(action, "patched")})
    return out


def solved(module: str, actions: list[str]) -> bool:
    if "submit" not in actions:
        return False
    fixes = [a for a in actions[:actions.index("submit")] if a.startswith("fix")]
    return bool(fixes) and all(f in CORRECT[module] for f in fixes)


def random_actions(rng: random.Random, module: str) -> list[str]:
    """SFT behaviour: explore at random, then any fix, then submit (the format, not the goal)."""
    explore = [rng.choice(("look", "test")) for _ in range(rng.randint(0, 2))]
    return explore + [rng.choice(FIXES), "submit"]


def word_tokenizer():
    """A word-level tokenizer over the task's few words: no byte-level tail for mass to leak into."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    words = set(" ".join([SYSTEM, *OBSERVATION.values(), "patched Tests fail in module", *MODULES, *ACTIONS,
                          "system user assistant"]).replace(".", " . ").replace(",", " , ").split())
    vocab = {w: i for i, w in enumerate([*SPECIAL_TOKENS, "<unk>", *sorted(words)])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    wrapped = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                      unk_token="<unk>", additional_special_tokens=SPECIAL_TOKENS[1:2])
    wrapped.chat_template = CHATML_TOOLS_TEMPLATE
    return wrapped


def make_base_model(out: Path, seed: int, steps: int = 300) -> None:
    """SFT from scratch on random trajectories: the format without the goal."""
    rng = random.Random(seed)
    tokenizer = word_tokenizer()
    ids = {a: tokenizer(a, add_special_tokens=False)["input_ids"] for a in ACTIONS}
    assert all(len(v) == 1 for v in ids.values()), f"actions must be single tokens: {ids}"
    model = build_model(len(tokenizer), hidden=64, layers=2, seed=seed)
    model.config.pad_token_id, model.config.eos_token_id = tokenizer.pad_token_id, tokenizer.eos_token_id
    seqs = [tokenize_conversation(tokenizer, messages(m, random_actions(rng, m)), 2) for m in tasks(rng, 2000)]
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3)
    torch.manual_seed(seed)
    for step in range(steps):
        block = pad_sequences(random.Random(seed * 1000 + step).sample(seqs, 32), tokenizer.pad_token_id)
        logits = model(input_ids=block["input_ids"], attention_mask=block["attention_mask"]).logits
        stats = sequence_stats(logits, block["input_ids"], block["loss_mask"], with_entropy=False)
        loss = sft_loss(stats.logps, stats.n_tokens)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    tokenizer.save_pretrained(out)
    model.save_pretrained(out)


@torch.no_grad()
def sample(model, tokenizer, problems: list[tuple[int, int]], n: int, seed: int):
    """n trajectories per problem at temperature 1; returns action lists and per-action entropies."""
    torch.manual_seed(seed)
    runs = [(m, []) for m in problems for _ in range(n)]
    entropies = []
    action_ids = {tokenizer(a, add_special_tokens=False)["input_ids"][0]: a for a in ACTIONS}
    for _turn in range(MAX_ACTIONS):
        live = [r for r in runs if not r[1] or r[1][-1] not in ("submit", "invalid")]
        if not live:
            break
        prefixes = [tokenizer.apply_chat_template(messages(m, acts), tokenize=False, add_generation_prompt=True)
                    for m, acts in live]
        encoded = [tokenizer(p, add_special_tokens=False)["input_ids"] for p in prefixes]
        width = max(map(len, encoded))
        ids = torch.tensor([[tokenizer.pad_token_id] * (width - len(e)) + e for e in encoded])  # [B, T] left-padded
        mask = torch.tensor([[0] * (width - len(e)) + [1] * len(e) for e in encoded])  # [B, T]
        positions = (mask.cumsum(1) - 1).clamp(min=0)  # [B, T]
        logits = model(input_ids=ids, attention_mask=mask, position_ids=positions).logits[:, -1].float()  # [B, V]
        logp = torch.log_softmax(logits, -1)  # [B, V]
        entropies += (-(logp.exp() * logp).sum(-1)).tolist()
        picks = torch.multinomial(logp.exp(), 1).squeeze(-1).tolist()  # [B]
        for (_, acts), token in zip(live, picks):
            acts.append(action_ids.get(token, "invalid"))
    return runs, entropies


def preference_lines(model, tokenizer, problems, seed: int) -> list[dict]:
    runs, _ = sample(model, tokenizer, problems, 8, seed)
    lines = []
    for k, module in enumerate(problems):
        group = runs[k * 8:(k + 1) * 8]
        good = [a for _, a in group if solved(module, a)]
        bad = [a for _, a in group if not solved(module, a) and "invalid" not in a]
        for j, (chosen, rejected) in enumerate(zip(good, bad)):
            m_c, m_r = messages(module, chosen), messages(module, rejected)
            lines.append({"format": "entropo-dpo-1.0", "task_id": f"{module}-{k}-{j}", "prompt": m_c[:2],
                          "chosen": m_c[2:], "rejected": m_r[2:], "action_format": "text"})
    return lines


def load_policy(base: Path, adapter: Path | None):
    from peft import PeftModel
    from transformers import AutoModelForCausalLM

    model = AutoModelForCausalLM.from_pretrained(str(base), local_files_only=True, dtype=torch.float32)
    return (PeftModel.from_pretrained(model, str(adapter)) if adapter else model).eval()


@torch.no_grad()
def heldout_accuracy(policy, ref, tokenizer, lines) -> float:
    """Share of held-out pairs whose DPO implicit reward ranks chosen above rejected."""
    examples, _ = build_examples("dpo", "entropo-dpo", lines, Builder(tokenizer, 256))
    batch = Collator(tokenizer.pad_token_id)(examples)
    logps = {}
    for who, model in (("pi", policy), ("ref", ref)):
        for name in ("chosen", "rejected"):
            b = batch[name]
            logits = model(input_ids=b["input_ids"], attention_mask=b["attention_mask"]).logits
            logps[who, name] = sequence_stats(logits, b["input_ids"], b["loss_mask"], with_entropy=False).logps
    margin = (logps["pi", "chosen"] - logps["ref", "chosen"]) - (logps["pi", "rejected"] - logps["ref", "rejected"])
    return float((margin > 0).float().mean())


def evaluate(model, tokenizer, problems, n, seed, pairs, ref) -> dict:
    runs, entropies = sample(model, tokenizer, problems, n, seed)
    distinct, fixes, best, best4, hits = [], [], [], [], 0
    for k, module in enumerate(problems):
        group = [a for _, a in runs[k * n:(k + 1) * n]]
        correct = {tuple(a) for a in group if solved(module, a)}
        hits += sum(solved(module, a) for a in group)
        distinct.append(len(correct))
        fixes.append(len({f for a in correct for f in a if f.startswith("fix")}))
        best.append(bool(correct))
        best4.append(any(solved(module, a) for a in group[:4]))
    invalid = sum("invalid" in a for _, a in runs) / len(runs)
    return {"pref_acc": heldout_accuracy(model, ref, tokenizer, pairs) if pairs else float("nan"),
            "entropy": statistics.mean(entropies), "distinct": statistics.mean(distinct),
            "distinct_fixes": statistics.mean(fixes), "invalid": invalid,
            "pass1": hits / (len(problems) * n), "best_of_4": statistics.mean(best4), "best_of_n": statistics.mean(best)}


def run_seed(seed: int, work: Path, n: int, epochs: int, lr: float, args_train_tasks: int) -> dict:
    rng = random.Random(10_000 + seed)
    base = work / f"base-{seed}"
    make_base_model(base, seed)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(base), local_files_only=True)
    ref = load_policy(base, None)
    train_tasks, test_tasks = tasks(rng, args_train_tasks), tasks(rng, 40)
    lines = preference_lines(ref, tokenizer, train_tasks, seed)
    heldout = preference_lines(ref, tokenizer, test_tasks, seed + 77)
    data = work / f"prefs-{seed}.jsonl"
    data.write_text("".join(json.dumps(x) + "\n" for x in lines))
    results = {"SFT base (no preference training)": evaluate(ref, tokenizer, test_tasks, n, seed, [], ref)}
    results["SFT base (no preference training)"]["pairs"] = len(lines)
    for label, (method, alpha, beta) in METHODS.items():
        from accelerate.state import AcceleratorState, GradientState
        AcceleratorState._reset_state(reset_partial_state=True)
        GradientState._reset_state()
        out = work / f"{method}-{alpha}-{seed}"
        events = []
        train(TrainConfig(method=method, base_model=str(base), data=str(data), out=str(out), alpha=alpha, beta=beta,
                          lr=lr, epochs=epochs, batch_size=8, grad_accum=1, max_length=256, seed=seed,
                          gradient_checkpointing=False), events.append)
        policy = load_policy(base, out / "adapter")
        results[label] = evaluate(policy, tokenizer, test_tasks, n, seed, heldout, ref)
        results[label]["train_pref_acc"] = [e for e in events if e["event"] == "step"][-1]["pref_accuracy"]
    return results


def table(per_seed: list[dict], n: int) -> str:
    keys = [("pref_acc", "held-out pref. accuracy"), ("entropy", "entropy (nats/turn)"),
            ("distinct", "distinct correct trajectories / task"), ("distinct_fixes", "distinct correct fixes / task"),
            ("invalid", "invalid-action rate"), ("pass1", "pass@1"), ("best_of_4", "best-of-4"),
            ("best_of_n", f"best-of-{n}")]
    rows = ["| method | " + " | ".join(k[1] for k in keys) + " |", "|---" * (len(keys) + 1) + "|"]
    for label in per_seed[0]:
        cells = []
        for key, _ in keys:
            values = [r[label][key] for r in per_seed]
            if any(v != v for v in values):  # NaN: not defined for this row
                cells.append("n/a")
                continue
            spread = statistics.pstdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.3f} ± {spread:.3f}")
        rows.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--train-tasks", type=int, default=120)
    args = parser.parse_args()
    torch.set_num_threads(1)
    started = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        per_seed = []
        for seed in args.seeds:
            per_seed.append(run_seed(seed, Path(tmp), args.samples, args.epochs, args.lr, args.train_tasks))
            print(json.dumps({"seed": seed, **per_seed[-1]}), file=sys.stderr)
    print(table(per_seed, args.samples))
    pairs = [r["SFT base (no preference training)"]["pairs"] for r in per_seed]
    print(f"\nmean ± std over seeds {args.seeds}; preference pairs per seed: {pairs}; "
          f"{args.samples} samples per held-out task; {time.time() - started:.0f} s")
    print(f"command: OMP_NUM_THREADS=1 trainer/.venv/bin/python bench/trainer/toy_entropy.py --seeds "
          f"{' '.join(map(str, args.seeds))} --samples {args.samples} --epochs {args.epochs} --lr {args.lr} "
          f"--train-tasks {args.train_tasks}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
