#!/usr/bin/env bash
# Creates or updates the trainer's virtual environment and prints its python on the last line of stdout.
#
#   trainer/setup.sh            # runtime dependencies (torch, transformers, peft, accelerate, jsonschema)
#   trainer/setup.sh test       # plus pytest and trl (the tests' independent DPO reference)
#   trainer/setup.sh deepspeed  # plus DeepSpeed for the ZeRO-3 config (extras can be combined: test,deepspeed)
#   trainer/setup.sh quantize   # plus bitsandbytes, for --quantize 4bit (QLoRA, CUDA only)
#   trainer/setup.sh bench      # plus TRL, Liger Kernel and bitsandbytes, for bench/trainer/gpu_throughput.py
#
# Environment: PYTHON (interpreter to create the venv with, default python3, needs >= 3.10),
# ENTROPO_TRAINER_VENV (venv location, default trainer/.venv).
# ENTROPO_TRAINER_VENV_CHOSEN=1: the user chose that folder (see below).
# Exit 4: no suitable Python; 6: the venv runs the trainer of another source checkout and lacks the extras.
# Idempotent and quick when nothing changed: a stamp in the venv records the hash of pyproject.toml and
# the extras installed. The first install downloads torch with its CUDA libraries (several GB, a few minutes).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${ENTROPO_TRAINER_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
extras="${1:-}"
stamp="$venv/.entropo-setup-stamp"
hash="$(sha256sum "$here/pyproject.toml" | cut -d' ' -f1)"

# The stamp lists every extra asked for, whichever pyproject.toml it was made from.
stamp_has_extras() {
  [[ -x "$venv/bin/python" && -f "$stamp" ]] || return 1
  local installed wanted
  installed=",$(sed -n 2p "$stamp"),"
  IFS=',' read -ra wanted <<< "$extras"
  for e in "${wanted[@]}"; do
    [[ -z "$e" || "$installed" == *",$e,"* ]] || return 1
  done
}

have_extras() {
  stamp_has_extras && [[ "$(sed -n 1p "$stamp")" == "$hash" ]]
}

if have_extras; then
  echo "trainer environment is up to date: $venv" >&2
  echo "$venv/bin/python"
  exit 0
fi

if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "error: $python is missing or older than Python 3.10; set PYTHON to a newer interpreter" >&2
  exit 4
fi

# Keep the extras installed before, so that a plain call after `setup.sh test` does not drop them
previous=""
if [[ -f "$stamp" && "$(sed -n 1p "$stamp")" == "$hash" ]]; then previous="$(sed -n 2p "$stamp")"; fi
all="$(printf '%s\n' ${previous//,/ } ${extras//,/ } | sort -u | paste -sd, -)"

# A folder the user chose (ENTROPO_TRAINER_VENV_CHOSEN=1) whose trainer is an editable install of another
# source checkout is a developer's environment, not ours to repoint: it is used as it is when its own setup
# installed the extras asked for (the trainer's code runs from this folder anyway), and left alone otherwise.
if [[ "${ENTROPO_TRAINER_VENV_CHOSEN:-}" == 1 && -x "$venv/bin/python" ]]; then
  from="$("$venv/bin/python" -I -c 'import importlib.util, os
spec = importlib.util.find_spec("entropo_trainer")
print(os.path.dirname(os.path.dirname(os.path.realpath(spec.origin))) if spec and spec.origin else "")' 2>/dev/null || true)"
  if [[ -n "$from" && "$from" != "$(cd "$here" && pwd -P)" && -e "$from/../.git" ]]; then
    if stamp_has_extras; then
      echo "using the trainer environment $venv as it is (its trainer is installed from the checkout $from)" >&2
      echo "$venv/bin/python"
      exit 0
    fi
    echo "error: $venv runs the trainer of the checkout $from, and setting it up here would replace that install." \
      "Set it up from that checkout: ENTROPO_TRAINER_VENV='$venv' bash '$from/setup.sh'${extras:+ $extras}," \
      "or choose another folder for this environment." >&2
    exit 6
  fi
fi

echo "setting up the trainer environment in $venv (extras: ${all:-none})" >&2
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip >&2
"$venv/bin/python" -m pip install --quiet -e "$here${all:+[$all]}" >&2
printf '%s\n%s\n' "$hash" "$all" > "$stamp"
echo "$venv/bin/python"
