# Shared by the project's scripts: install the npm dependencies when they are missing or stale, then build.
ensure_build() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
  fi
  node esbuild.mjs >/dev/null
}
