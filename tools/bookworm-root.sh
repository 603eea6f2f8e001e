#!/usr/bin/env bash
# Makes ROOT (an empty folder) a fresh minimal Debian 12 system: debootstrap --variant=minbase bookworm from MIRROR.
# A pristine copy is kept as a tarball under LMSCOPE_ROOT_CACHE (default /var/cache/lmscope-ci; set it empty for
# none), keyed by the mirror and debootstrap's version and used while younger than LMSCOPE_ROOT_CACHE_DAYS (7):
# machines that keep /var/cache skip the bootstrap, others bootstrap every time. Every ROOT is unpacked anew, so a
# test never sees what an earlier test installed.
#   tools/bookworm-root.sh ROOT MIRROR        (root; debootstrap: tools/install-deps.sh --checking)
set -euo pipefail
[ $# -eq 2 ] || { echo "usage: $0 ROOT MIRROR" >&2; exit 2; }
root=$1
mirror=$2
[ "$(id -u)" -eq 0 ] || { echo "bookworm-root: needs root (debootstrap)" >&2; exit 2; }
command -v debootstrap >/dev/null || { echo "bookworm-root: debootstrap is missing (tools/install-deps.sh --checking)" >&2; exit 2; }
mkdir -p "$root"
[ -z "$(ls -A "$root")" ] || { echo "bookworm-root: $root is not empty" >&2; exit 2; }
chmod 0755 "$root"  # it is the system's /: users (apt's _apt too) must reach what is below (mktemp -d gives 0700)

cache=${LMSCOPE_ROOT_CACHE-/var/cache/lmscope-ci}
days=${LMSCOPE_ROOT_CACHE_DAYS:-7}
key=$(printf 'bookworm minbase %s debootstrap %s v1\n' "$mirror" "$(dpkg-query -W -f='${Version}' debootstrap)" |
      sha256sum | cut -c1-16)
tarball=$cache/bookworm-minbase-$key.tar
if [ -n "$cache" ] && [ -f "$tarball" ] && [ -n "$(find "$tarball" -mtime "-$days")" ]; then
  tar -C "$root" --numeric-owner -xpf "$tarball"
  chmod 0755 "$root"
  echo "bookworm-root: $root from $tarball (made $(date -r "$tarball" '+%F %R'))"
  exit 0
fi
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
  { tail -n 30 "$root.debootstrap.log" >&2; echo "bookworm-root: debootstrap failed (log: $root.debootstrap.log)" >&2; exit 1; }
rm -f "$root.debootstrap.log"
if [ -n "$cache" ]; then
  mkdir -p "$cache"
  tmp=$(mktemp "$tarball.XXXXXX")
  tar -C "$root" --numeric-owner -cf "$tmp" . && mv "$tmp" "$tarball"
  # Tarballs of other keys (another mirror, an older debootstrap) are stale.
  find "$cache" -maxdepth 1 -name 'bookworm-minbase-*.tar' ! -name "$(basename "$tarball")" -delete
  echo "bookworm-root: $root bootstrapped from $mirror; cached as $tarball"
else
  echo "bookworm-root: $root bootstrapped from $mirror"
fi
