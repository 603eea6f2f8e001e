#!/usr/bin/env bash
# Installs the lmscope .deb into a fresh minimal Debian 12 root with apt, as `apt install ./lmscope_*.deb` does on a
# clean system (Depends only, no Recommends: they must be enough), and uses it there as an ordinary user
# (tools/installed-checks.sh): versions, man page, desktop entry and icon, the demo, the demo report drawn by the
# installed GUI headless, an evaluation of every task kind; then, with xvfb installed for the test only, the GUI's
# --screenshots mode.
#   sudo tools/test-deb-in-chroot.sh [--mirror URL] [--keep] [--artifacts DIR] PACKAGE.deb
# --artifacts DIR: the demo report, the evaluation's results and the screenshots made in the root are copied there.
# Package sources: this machine's apt configuration for bookworm (tools/apt-sources-bookworm.sh), or only
# "URL bookworm main" with --mirror. Needs root, debootstrap, and the mirror over the network. The root is made
# under ${TMPDIR:-/var/tmp} and removed afterwards (--keep: left for a look). Its pristine base and the packages
# apt downloads are cached under LMSCOPE_ROOT_CACHE (default /var/cache/lmscope-ci, empty for none; see
# tools/bookworm-root.sh); apt checks every cached package against the mirror's fresh index.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mirror=""
keep=0
artifacts=""
while [ $# -gt 0 ]; do
  case $1 in
    --mirror) mirror=${2:?--mirror needs a URL}; shift 2 ;;
    --keep) keep=1; shift ;;
    --artifacts) artifacts=${2:?--artifacts needs a folder}; shift 2 ;;
    -*) echo "test-deb-in-chroot: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
[ $# -eq 1 ] || { echo "usage: $0 [--mirror URL] [--keep] [--artifacts DIR] PACKAGE.deb" >&2; exit 2; }
deb=$(readlink -f "$1")
[ -f "$deb" ] || { echo "test-deb-in-chroot: $1: no such file" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "test-deb-in-chroot: needs root (debootstrap, chroot, mount)" >&2; exit 2; }

if [ -n "$mirror" ]; then
  sources="$mirror bookworm main"
else
  sources=$("$here/apt-sources-bookworm.sh")
  [ -n "$sources" ] || { echo "test-deb-in-chroot: no bookworm source in /etc/apt; give --mirror URL" >&2; exit 2; }
  mirror=$(head -n 1 <<<"$sources" | cut -d' ' -f1)
  [ "$(head -n 1 <<<"$sources" | cut -d' ' -f2)" = bookworm ] ||
    { echo "test-deb-in-chroot: /etc/apt has bookworm-updates/-security but no bookworm entry; give --mirror URL" >&2; exit 2; }
fi
version=$(dpkg-deb -f "$deb" Version)
start=$SECONDS
elapsed() { echo "$((SECONDS - start)) s"; }

root=$(mktemp -d "${TMPDIR:-/var/tmp}/lmscope-deb-test.XXXXXX")
mounts=()
cleanup() {
  local i
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do umount "${mounts[i]}" 2>/dev/null || umount -l "${mounts[i]}" || true; done
  if [ "$keep" = 1 ]; then
    echo "test-deb-in-chroot: root kept in $root"
  elif findmnt -rn -o TARGET | grep -q "^$root"; then
    echo "test-deb-in-chroot: $root still has mounts; not removing it" >&2
  else
    # --one-file-system: never into anything still mounted below the root
    rm -rf --one-file-system "$root"
  fi
}
trap cleanup EXIT
mount_in() {  # mount_in TARGET mount-arguments...
  local target=$root$1; shift
  mkdir -p "$target"
  mount "$@" "$target"
  mounts+=("$target")
}

"$here/bookworm-root.sh" "$root" "$mirror"
echo "test-deb-in-chroot: root ready after $(elapsed)"
while read -r uri suite components; do
  echo "deb $uri $suite $components"
done <<<"$sources" >"$root/etc/apt/sources.list"
rm -f "$root"/etc/apt/sources.list.d/*
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
mount_in /proc -t proc proc
mount_in /dev/shm -t tmpfs -o size=512m tmpfs
cache=${LMSCOPE_ROOT_CACHE-/var/cache/lmscope-ci}
if [ -n "$cache" ]; then
  mkdir -p "$cache/apt-archives/partial"
  mount_in /var/cache/apt/archives --bind "$cache/apt-archives"
fi

# The chroot sees none of this machine's environment but a proxy apt may need.
in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive \
              ${http_proxy:+http_proxy=$http_proxy} ${https_proxy:+https_proxy=$https_proxy} "$@"; }
as_user() {  # as_user LABEL COMMAND...: as the user "tester"; LABEL names the folder kept for --artifacts
  local label=$1; shift
  chroot --userspec=4242:4242 "$root" env -i PATH=/usr/bin:/bin LANG=C.UTF-8 HOME=/home/tester USER=tester \
    ${artifacts:+LMSCOPE_CHECKS_OUT=/home/tester/checks-$label} "$@"
}
apt_install() { in_root apt-get install -y -q --no-install-recommends "$@" >"$root/tmp/apt.log" 2>&1 ||
                  { tail -n 40 "$root/tmp/apt.log" >&2; return 1; }; }

in_root apt-get update -q >/dev/null
cp "$deb" "$root/tmp/"
apt_install "/tmp/$(basename "$deb")"
echo "test-deb-in-chroot: $(basename "$deb") installed with apt after $(elapsed):"
in_root dpkg-query -W -f='  ${Package} ${Version}\n  Depends: ${Depends}\n' lmscope
in_root useradd --create-home --uid 4242 --shell /bin/bash tester
cp "$here/installed-checks.sh" "$root/tmp/installed-checks.sh"
chmod 0755 "$root/tmp/installed-checks.sh"
as_user cli /tmp/installed-checks.sh cli "$version"
echo "test-deb-in-chroot: command-line checks passed after $(elapsed)"

# For the GUI under an X server only: the test's tools, not the package's dependencies.
apt_install xvfb xauth desktop-file-utils
as_user gui /tmp/installed-checks.sh gui "$version"
if [ -n "$artifacts" ]; then
  mkdir -p "$artifacts"
  cp -r "$root"/home/tester/checks-* "$artifacts/"
  echo "test-deb-in-chroot: what the checks wrote is in $artifacts"
fi
in_root apt-get autoclean -q >/dev/null  # the cached packages the index no longer lists go
echo "test-deb-in-chroot: ok ($(basename "$deb") installed and used in a fresh Debian 12; $(elapsed))"
