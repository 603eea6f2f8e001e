#!/usr/bin/env bash
# Builds the Debian package as CI ships it: Release, GUI on, without CUDA (the CUDA libraries are no Debian packages,
# so the package could not declare them) and without the tests, in build-pkg (LMSCOPE_PACKAGE_BUILD_DIR); then cpack.
# Prints the .deb's path last. With CMAKE_CXX_COMPILER_LAUNCHER=ccache in the environment (CI sets it) the objects
# the test build compiled with the same flags come from the cache.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${LMSCOPE_PACKAGE_BUILD_DIR:-build-pkg}
if [ ! -f "$build/build.ninja" ]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLMSCOPE_CUDA=OFF -DLMSCOPE_TESTS=OFF -DLMSCOPE_GUI=ON
fi
cmake --build "$build"
rm -f "$build"/lmscope_*.deb
(cd "$build" && cpack -G DEB >cpack.log 2>&1) || { cat "$build/cpack.log" >&2; exit 1; }
ls "$PWD/$build"/lmscope_*.deb
