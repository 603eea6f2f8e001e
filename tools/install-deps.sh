#!/usr/bin/env bash
# Installs everything lmscope needs to build and test on Debian 12 (bookworm), from Debian's packages.
# The CUDA backend is built too when a CUDA toolkit (nvcc) is already installed; it is never required.
# --checking adds what CI needs beyond the build: clang and its sanitizer/libFuzzer runtimes (tools/check-sanitized.sh,
# tools/fuzz.sh), ccache, debootstrap (tools/test-deb-in-chroot.sh) and groff (the man page test).
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: run as root or install sudo" >&2; exit 1; }
  SUDO=sudo
fi
packages=(
  build-essential cmake ninja-build pkg-config git
  nlohmann-json3-dev libopenblas-dev libopenblas-openmp-dev libgtest-dev zlib1g-dev
  libsentencepiece-dev libpcre2-dev libutf8proc-dev libsqlite3-dev
  qt6-base-dev qt6-svg-dev libqcustomplot-dev
  xvfb dpkg-dev
)
if [ "${1:-}" = "--checking" ]; then packages+=(clang libclang-rt-14-dev ccache debootstrap groff-base); fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
echo "install-deps: ok (${#packages[@]} packages)"
