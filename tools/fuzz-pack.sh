#!/usr/bin/env bash
# Packs the libFuzzer targets for a run on the GPU machine's 16 CPU cores (issue 20's long run: the Debian machine has
# two): builds them (as tools/fuzz.sh does), strips their debug info, adds the shared libraries they load from this
# machine, and writes .fuzzcarry/fuzz.tar.xz (~15 MB). Then: the device tool with carry [".fuzzcarry"] and the
# command `tools/device/fuzz.sh [SECONDS]`.
#   tools/fuzz-pack.sh [BUILD_DIR]   (default build-fuzz)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-fuzz}
targets=(safetensors config run_spec worker_request data_files tokenizer)
LMSCOPE_FUZZ_BUILD_DIR=$build tools/fuzz.sh -t 1 "${targets[@]}" >/dev/null 2>&1 || true  # configures and builds
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/fz/bin" "$stage/fz/lib" .fuzzcarry
for t in "${targets[@]}"; do strip -g -o "$stage/fz/bin/fuzz_$t" "$build/tests/fuzz/fuzz_$t"; done
# every library outside glibc / libstdc++ / libgcc that the targets load
for t in "${targets[@]}"; do ldd "$build/tests/fuzz/fuzz_$t"; done | awk '$3 ~ /^\// {print $3}' | sort -u |
  grep -vE '/(libc|libm|libstdc\+\+|libgcc_s|ld-linux[^/]*)\.so' | while read -r lib; do cp -L "$lib" "$stage/fz/lib/"; done
tar cJf .fuzzcarry/fuzz.tar.xz -C "$stage" fz
ls -l .fuzzcarry/fuzz.tar.xz
