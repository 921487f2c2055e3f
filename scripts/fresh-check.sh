#!/usr/bin/env bash
# Checks README.md's Quick start as a new user meets it: a clean clone of this repository's HEAD, a scrubbed
# environment whose PATH holds only the system's own programs (the README's prerequisites: Node, npm, git,
# Python and the apt packages it names), then `npm run demo` and `npm test`. It needs no container: it
# cannot uninstall anything, so it builds a PATH of links that leaves out what a fresh machine lacks
# (toolchains under /usr/local or the home folder, pyenv shims) and whatever --without names.
#   --without TOOL   also leave TOOL out (repeatable), e.g. --without bwrap for a machine without bubblewrap
#   --demo-only      run only `npm run demo`
# Environment: FRESH_KEEP=1 keeps the clone; FRESH_TRAINER_VENV=DIR links an existing trainer environment
# into the clone instead of downloading PyTorch again (the check says so when it does).
# Ends with one line per command, `PASS|FAIL <command> (<seconds> s, exit <code>)`, and exits non-zero if one failed.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
without=()
demo_only=
while [ $# -gt 0 ]; do
  case "$1" in
    --without) without+=("$2"); shift 2 ;;
    --demo-only) demo_only=1; shift ;;
    *) echo "usage: scripts/fresh-check.sh [--without TOOL]... [--demo-only]" >&2; exit 2 ;;
  esac
done

WORK=$(mktemp -d "${TMPDIR:-/tmp}/entropo-fresh-XXXXXX")
# The PATH's links lie outside the temp folder: sandboxed commands get a private /tmp, where they would vanish.
mkdir -p "$ROOT/.entropo"
bin=$(mktemp -d "$ROOT/.entropo/fresh-bin-XXXXXX")
cleanup() { rm -rf "$bin"; if [ -z "${FRESH_KEEP:-}" ]; then rm -rf "$WORK"; else echo "kept: $WORK"; fi; }
trap cleanup EXIT

# The PATH: links to every program of /usr/bin and /bin (where Debian puts node, npm, git, python3 and the
# apt packages), minus what --without names. Nothing from /usr/local, ~/.cargo, ~/.pyenv or ~/.local.
for dir in /usr/bin /bin; do
  for program in "$dir"/*; do
    name=${program##*/}
    [ -x "$program" ] && [ ! -e "$bin/$name" ] && ln -s "$program" "$bin/$name"
  done
done
for tool in "${without[@]}"; do rm -f "$bin/$tool"; done
for tool in node npm npx git python3; do
  [ -e "$bin/$tool" ] || { echo "prerequisite missing from /usr/bin: $tool" >&2; exit 1; }
done

git clone -q "$ROOT" "$WORK/clone"
if [ -n "${FRESH_TRAINER_VENV:-}" ]; then
  ln -s "$FRESH_TRAINER_VENV" "$WORK/clone/trainer/.venv"
  echo "note: the trainer environment is linked from $FRESH_TRAINER_VENV instead of downloaded"
fi
echo "clone: $WORK/clone (HEAD $(git -C "$WORK/clone" rev-parse --short HEAD)); PATH: $bin only${without[*]:+, without ${without[*]}}"
echo "node $("$bin/node" --version), npm $("$bin/npm" --version), $("$bin/git" --version), $("$bin/python3" --version)"

status=0
results=()
check() {
  local started=$SECONDS rc
  echo "== $*"
  # A scrubbed environment: HOME (npm's cache) and the temp folder, nothing else of this shell's.
  set +e
  (cd "$WORK/clone" && env -i HOME="$HOME" PATH="$bin" TMPDIR="${TMPDIR:-/tmp}" LANG=C.UTF-8 TERM=dumb "$@") 2>&1 | tee "$WORK/$1-$2.log" | tail -n 25
  rc=${PIPESTATUS[0]}
  set -e
  if [ "$rc" -eq 0 ]; then results+=("PASS $* ($((SECONDS - started)) s, exit 0)"); else results+=("FAIL $* ($((SECONDS - started)) s, exit $rc)"); status=1; fi
}
check npm run demo
[ -n "$demo_only" ] || check npm test
printf '%s\n' "${results[@]}"
exit "$status"
