# Shared by the project's scripts: install the npm dependencies when they are missing or stale, then build.
ensure_build() {
  if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    # onnxruntime-node's install script would download CUDA libraries; the CPU binaries we use ship in the
    # package. npm 11 skips the script through package.json's allowScripts; npm 10 runs it, and it reads this.
    ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
  fi
  node esbuild.mjs >/dev/null
}
