#!/usr/bin/env bash
# Creates or updates the local verifier trainer's virtual environment and prints its python on the last line.
#
#   trainer/verifier/setup.sh
#
# Environment: PYTHON (interpreter, default python3, >= 3.10), VERIFIER_VENV (default trainer/verifier/.venv).
# Idempotent: a stamp in the venv records the hash of requirements.txt.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="${VERIFIER_VENV:-$here/.venv}"
python="${PYTHON:-python3}"
stamp="$venv/.verifier-setup-stamp"
hash="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"

if [[ -x "$venv/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$hash" ]]; then
  echo "verifier trainer environment is up to date: $venv" >&2
  echo "$venv/bin/python"
  exit 0
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
  echo "error: $python is missing or older than Python 3.10; set PYTHON to a newer interpreter" >&2
  exit 4
fi
echo "setting up the verifier trainer environment in $venv" >&2
[[ -x "$venv/bin/python" ]] || "$python" -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --upgrade pip >&2
"$venv/bin/python" -m pip install --quiet -r "$here/requirements.txt" >&2
echo "$hash" > "$stamp"
echo "$venv/bin/python"
