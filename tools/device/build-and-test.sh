#!/usr/bin/env bash
# On the GPU machine (which has CUDA, cmake, ninja but no Debian -dev packages): unpack the carried libraries,
# build the Qt-free engine + CLI + tests with the CUDA backend, and run the tests there.
# Carry: .devdeps (made here by ../shared/tools/device-deps.sh, see docs/NOTES.md) and, for the golden tests,
# .carry/shared/refpack (a copy of ../shared/refpack).
# Usage: tools/device/build-and-test.sh [ctest args...]
set -euo pipefail
source .devdeps/device-env.sh
D=/opt/devdeps
blas=$D/usr/lib/x86_64-linux-gnu/openblas-pthread
export PATH=$D/usr/bin:$PATH
export PKG_CONFIG_PATH=$blas/pkgconfig:$PKG_CONFIG_PATH
export PKG_CONFIG_SYSROOT_DIR=$D
export LIBRARY_PATH=$blas:$LIBRARY_PATH
export LD_LIBRARY_PATH=$blas:$LD_LIBRARY_PATH
[ -d .carry/shared ] && export LMSCOPE_SHARED=$PWD/.carry/shared
build=${LMSCOPE_BUILD_DIR:-build-device}
cmake -S . -B "$build" -G Ninja -DLMSCOPE_GUI=OFF -DCMAKE_CUDA_ARCHITECTURES="${CUDA_ARCHS:-90}" >/dev/null
cmake --build "$build" -j "$(nproc)"
"$build/bin/lmscope-cli" devices --self-test
ctest --test-dir "$build" --output-on-failure "$@"
