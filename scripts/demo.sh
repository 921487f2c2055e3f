#!/usr/bin/env bash
# The main job on the bundled example: a fresh git copy of examples/pagination/repo, N = 4 rollouts in
# parallel worktrees replaying recorded trajectories (two correct fixes, two wrong ones), candidates listed.
# Extra arguments go to `entropo run`; with --base-url URL --model NAME it uses a real model instead.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_build

work=$(mktemp -d "${TMPDIR:-/tmp}/entropo-demo-XXXXXX")
repo="$work/pagination"
cp -r examples/pagination/repo "$repo"
git -C "$repo" init -q -b main
git -C "$repo" add -A
git -C "$repo" -c user.name=demo -c user.email=demo@example.com commit -q -m "pagination example"
echo "Example repository: $repo"

scripts=()
if [[ " $* " != *" --base-url "* ]]; then
  for name in fix-ceil fix-math-ceil fix-plus-one fix-range-check; do
    scripts+=(--script "examples/pagination/scripted/$name.json")
  done
  # The replayed trajectories are this project's own recorded scripts, whose commands are known (view, edit,
  # run the example's tests). Where bubblewrap is missing the demo consents to run them unsandboxed and says
  # so; with a live model (--base-url) consent stays the user's to give.
  scripts+=(--allow-unsandboxed)
  echo "The rollouts replay this project's recorded scripts; where no sandbox is available their commands run unsandboxed (--allow-unsandboxed)."
fi
node dist/cli.js run --repo "$repo" --issue examples/pagination/issue.md --samples 4 --out "$work/out" "${scripts[@]}" "$@"
