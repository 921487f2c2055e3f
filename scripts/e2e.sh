#!/usr/bin/env bash
# Tests the packaged extension inside a real VS Code: builds and packages the .vsix, installs it into a
# fresh code-server, opens the workbench in Debian's chromium through playwright-core, runs the
# extension-host suites (test/vscode/suites) and then the UI steps (test/vscode/ui). Ends with the line
# "N passed, N failed" and exits non-zero when a test failed.
#   --build-only    build the extension and compile the suites into out/test (what .vscode-test.mjs runs)
#   --package-only  build and package out/e2e/entropo-agent-linux-x64.vsix, print its path
#
# Needs: apt-get install -y chromium ripgrep libkrb5-dev (and a C++ toolchain for code-server's native modules).
# Environment: E2E_GREP (regex on "suite › test"), E2E_SKIP_UI=1, E2E_SKIP_HOST=1, E2E_TIMEOUT (whole run, s,
# default 900), E2E_KEEP=1 (keep the temp dir), E2E_VERBOSE=1 (print the editor's logs), E2E_REPACKAGE=1.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
ARTIFACTS=$ROOT/test-artifacts/e2e
VSIX_DIR=$ROOT/out/e2e
VSIX=$VSIX_DIR/entropo-agent-linux-x64.vsix
VSCE_VERSION=3.9.2
RG_CACHE=${TMPDIR:-/tmp}/vscode-ripgrep-cache-1.15.11
SERVER_PID=
WORK=
SUMMARY_PRINTED=

log() { echo "[e2e +${SECONDS}s] $*"; }

cleanup() {
  local rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    # code-server leads its own process group; killing the group also stops its file watchers and extension host.
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  fi
  if [ -n "$WORK" ] && [ -z "${E2E_KEEP:-}" ]; then rm -rf "$WORK"; fi
  # A failure before any test ran still ends with the line CI reads.
  if [ -z "$SUMMARY_PRINTED" ] && [ "$rc" -ne 0 ]; then echo "0 passed, 1 failed"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

require_tools() {
  local missing=()
  for tool in chromium rg git node npm; do command -v "$tool" >/dev/null || missing+=("$tool"); done
  if [ ${#missing[@]} -gt 0 ]; then
    echo "missing: ${missing[*]} (apt-get install -y chromium ripgrep libkrb5-dev git)" >&2
    return 1
  fi
}

# code-server's ripgrep dependency downloads a binary at install time; seed its cache with Debian's rg.
seed_ripgrep_cache() {
  local tarball=$RG_CACHE/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz
  [ -f "$tarball" ] && return 0
  local tmp
  tmp=$(mktemp -d)
  cp "$(command -v rg)" "$tmp/rg"
  mkdir -p "$RG_CACHE"
  tar -czf "$tarball" -C "$tmp" rg
  rm -rf "$tmp"
}

# Installs code-server and playwright-core in e2e/ when missing or older than the lock file.
ensure_e2e_deps() {
  if [ -f e2e/node_modules/.package-lock.json ] && [ ! e2e/package-lock.json -nt e2e/node_modules/.package-lock.json ]; then return 0; fi
  seed_ripgrep_cache
  # node-gyp builds code-server's native modules against the local Node headers; it cannot download them.
  if [ -z "${npm_config_nodedir:-}" ] && [ -d "$(dirname "$(dirname "$(command -v node)")")/include/node" ]; then
    export npm_config_nodedir
    npm_config_nodedir=$(dirname "$(dirname "$(command -v node)")")
  fi
  log "installing code-server and playwright-core in e2e/ (a few minutes)"
  # code-server's postinstall refuses to run as root unless npm passes unsafe-perm on to it.
  (cd e2e && npm_config_yes=true npm_config_unsafe_perm=true npm ci --no-audit --no-fund --loglevel=error)
}

# Bundles the in-host test entry and each suite: out/test/index.js loads out/test/suites/*.js at run time.
build_tests() {
  rm -rf out/test
  npx esbuild test/vscode/index.ts test/vscode/mocha.ts test/vscode/suites/*.ts --bundle --platform=node --format=cjs --target=node20 \
    --external:vscode --outbase=test/vscode --outdir=out/test --sourcemap=inline --log-level=warning
}

vsce() {
  if [ -x "$ROOT/node_modules/.bin/vsce" ]; then "$ROOT/node_modules/.bin/vsce" "$@"; else npx --yes "@vscode/vsce@$VSCE_VERSION" "$@"; fi
}

# What goes into the package; vsce reads only these, copied into a staging folder.
PACKAGE_INPUTS=(package.json package-lock.json .vscodeignore README.md CHANGELOG.md LICENSE LICENSE.md LICENSE.txt dist media models
  schemas trainer/pyproject.toml trainer/README.md trainer/setup.sh trainer/entropo_trainer trainer/configs)

# Packages the extension unless nothing that goes into the package changed since the last run. vsce walks
# every file under its working folder before applying .vscodeignore, and this repository holds tens of
# thousands of files it never ships (e2e/node_modules, the trainer's virtual environment), so it runs in a
# staging folder holding only the package inputs and a hard-linked copy of node_modules (80 s -> 17 s).
package_vsix() {
  # The package ships minified bundles without source maps.
  node esbuild.mjs --production >/dev/null
  mkdir -p "$VSIX_DIR"
  local inputs=() hash stage=$VSIX_DIR/stage
  for input in "${PACKAGE_INPUTS[@]}"; do [ -e "$input" ] && inputs+=("$input"); done
  hash=$(find "${inputs[@]}" -type f -not -path '*/__pycache__/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum | sha256sum | cut -c1-64)
  if [ -z "${E2E_REPACKAGE:-}" ] && [ -f "$VSIX" ] && [ "$(cat "$VSIX.sha256" 2>/dev/null)" = "$hash" ]; then
    log "package unchanged: $VSIX"
    return 0
  fi
  rm -rf "$VSIX" "$VSIX.sha256" "$stage"
  mkdir -p "$stage"
  cp -r --parents "${inputs[@]}" "$stage/"
  cp -al node_modules "$stage/node_modules" 2>/dev/null || cp -a node_modules "$stage/node_modules"
  log "packaging $VSIX"
  # Dependencies stay on (vsce lists them with `npm list --production`, offline) so that .vscodeignore's
  # node_modules whitelist can re-include onnxruntime-node; --no-dependencies would drop node_modules whole.
  (cd "$stage" && vsce package --target linux-x64 --out "$VSIX" --skip-license --allow-missing-repository \
    --no-rewrite-relative-links) >"$ARTIFACTS/vsce.log" 2>&1 || { cat "$ARTIFACTS/vsce.log" >&2; return 1; }
  rm -rf "$stage"
  # vsce deflates at a middling level; the same files at level 9 save about 0.4 MB, nearly all of it on
  # onnxruntime's 45 MB library (the package must stay under 20 MB).
  python3 - "$VSIX" <<'PY'
import sys, zipfile
path = sys.argv[1]
with zipfile.ZipFile(path) as src:
    entries = [(info, src.read(info)) for info in src.infolist()]
with zipfile.ZipFile(path, "w") as dst:
    for info, data in entries:
        info.compress_type = zipfile.ZIP_DEFLATED if info.compress_type else zipfile.ZIP_STORED
        dst.writestr(info, data, compresslevel=9)
PY
  echo "$hash" >"$VSIX.sha256"
}

# A fresh git repository holding a copy of the bundled example, which the workbench opens.
make_workspace() {
  cp -r examples/pagination/repo "$WORK/pagination"
  git -C "$WORK/pagination" init -q -b main
  git -C "$WORK/pagination" add -A
  git -C "$WORK/pagination" -c user.name=e2e -c user.email=e2e@example.com commit -q -m "example repository"
}

# Settings that keep the workbench quiet and deterministic (no welcome page, no update or gallery checks),
# merged with test/vscode/settings.json when the suites need settings of their own.
write_settings() {
  mkdir -p "$WORK/user-data/User"
  cat >"$WORK/user-data/User/defaults.json" <<'JSON'
{
  "workbench.startupEditor": "none",
  "workbench.tips.enabled": false,
  "security.workspace.trust.enabled": false,
  "extensions.autoUpdate": false,
  "extensions.autoCheckUpdates": false,
  "extensions.ignoreRecommendations": true,
  "telemetry.telemetryLevel": "off",
  "update.mode": "none",
  "git.openRepositoryInParentFolders": "never"
}
JSON
  node -e '
    const fs = require("fs");
    const [defaults, extra, out] = process.argv.slice(1);
    const merged = { ...JSON.parse(fs.readFileSync(defaults, "utf8")), ...(fs.existsSync(extra) ? JSON.parse(fs.readFileSync(extra, "utf8")) : {}) };
    fs.writeFileSync(out, JSON.stringify(merged, null, 2));
  ' "$WORK/user-data/User/defaults.json" test/vscode/settings.json "$WORK/user-data/User/settings.json"
  rm "$WORK/user-data/User/defaults.json"
}

code_server() {
  XDG_CONFIG_HOME=$WORK/xdg-config XDG_DATA_HOME=$WORK/xdg-data XDG_CACHE_HOME=$WORK/xdg-cache \
    e2e/node_modules/.bin/code-server --user-data-dir "$WORK/user-data" --extensions-dir "$WORK/extensions" "$@"
}

installed_extension_path() {
  node -e '
    const list = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const entry = list.find((e) => e.identifier.id.toLowerCase() === "entropo.entropo-agent");
    if (!entry) { console.error("the extension is not in extensions.json"); process.exit(1); }
    console.log(entry.location.path ?? entry.location.fsPath);
  ' "$WORK/extensions/extensions.json"
}

free_port() {
  node -e 'const s = require("net").createServer(); s.listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); });'
}

main() {
  local started=$SECONDS
  mkdir -p "$ARTIFACTS"
  rm -rf "${ARTIFACTS:?}"/*
  # shellcheck source=scripts/lib.sh
  source scripts/lib.sh
  case "${1:-}" in
    --build-only) SUMMARY_PRINTED=1; ensure_build; build_tests; return 0 ;;
    --package-only) SUMMARY_PRINTED=1; ensure_build; package_vsix; echo "$VSIX"; return 0 ;;
    '') ;;
    *) SUMMARY_PRINTED=1; echo "usage: scripts/e2e.sh [--build-only | --package-only]" >&2; return 2 ;;
  esac
  require_tools
  ensure_e2e_deps
  ensure_build
  build_tests
  log "built"
  package_vsix
  log "package: $VSIX ($(du -h "$VSIX" | cut -f1))"

  WORK=$(mktemp -d "${TMPDIR:-/tmp}/entropo-e2e-XXXXXX")
  # The editor's temp folder (stores, workspaces, the kept shared checkout) lies inside WORK, removed at exit.
  mkdir -p "$WORK/tmp"
  make_workspace
  write_settings
  code_server --install-extension "$VSIX" >"$ARTIFACTS/install.log" 2>&1 || { cat "$ARTIFACTS/install.log" >&2; return 1; }
  local extension port
  extension=$(installed_extension_path)
  port=$(free_port)
  log "installed at $extension; code-server on 127.0.0.1:$port"

  ENTROPO_E2E_WORKSPACE=$WORK/pagination ENTROPO_E2E_ARTIFACTS=$ARTIFACTS ENTROPO_E2E_PACKAGED=1 ENTROPO_E2E_EXAMPLE=$ROOT/examples/pagination \
    ENTROPO_E2E_RESULTS=$WORK/host-results.json ENTROPO_E2E_GREP=${E2E_GREP:-} ENTROPO_E2E_TRAINER_VENV=$ROOT/trainer/.venv ENTROPO_E2E_USER_DATA=$WORK/user-data \
    setsid env TMPDIR="$WORK/tmp" XDG_CONFIG_HOME="$WORK/xdg-config" XDG_DATA_HOME="$WORK/xdg-data" XDG_CACHE_HOME="$WORK/xdg-cache" \
    e2e/node_modules/.bin/code-server --auth none --bind-addr "127.0.0.1:$port" \
      --user-data-dir "$WORK/user-data" --extensions-dir "$WORK/extensions" \
      --disable-telemetry --disable-update-check --disable-workspace-trust "$WORK/pagination" \
      >"$ARTIFACTS/code-server.log" 2>&1 &
  SERVER_PID=$!

  local flags=()
  [ -n "${E2E_SKIP_UI:-}" ] && flags+=(--skip-ui)
  [ -n "${E2E_SKIP_HOST:-}" ] && flags+=(--skip-host)
  [ -n "${E2E_VERBOSE:-}" ] && flags+=(--verbose)
  [ -n "${E2E_GREP:-}" ] && flags+=(--grep "$E2E_GREP")
  local budget=$(( ${E2E_TIMEOUT:-900} - (SECONDS - started) ))
  [ "$budget" -gt 30 ] || { echo "no time left for the run (E2E_TIMEOUT=${E2E_TIMEOUT:-900})" >&2; return 1; }
  local rc=0
  SUMMARY_PRINTED=1
  # The browser, its profile and the UI tests' own helpers (tsx's compile cache) keep their files inside WORK
  # too: chromium writes crash reports to XDG_CONFIG_HOME and a dconf file to XDG_CACHE_HOME.
  TMPDIR="$WORK/tmp" XDG_CONFIG_HOME="$WORK/browser-config" XDG_CACHE_HOME="$WORK/browser-cache" \
    timeout --kill-after=10 "$budget" node e2e/run.mjs --base-url "http://127.0.0.1:$port" --workspace "$WORK/pagination" \
    --extension "$extension" --tests "$ROOT/out/test/index.js" --results "$WORK/host-results.json" \
    --artifacts "$ARTIFACTS" --ui "$ROOT/test/vscode/ui" --host-timeout-s "$(( budget - 20 ))" --started-s "$(( SECONDS - started ))" \
    "${flags[@]}" || rc=$?
  # 124: stopped with SIGTERM at the limit (run.mjs still printed its counts); 137: killed before it could.
  if [ "$rc" -eq 137 ]; then echo "the run did not finish within ${E2E_TIMEOUT:-900} s"; echo "0 passed, 1 failed"; fi
  return "$rc"
}

main "$@"
