#!/usr/bin/env bash
# Installs the lmscope .deb into a fresh Debian 12 (bookworm) root made by debootstrap and runs the demo and an
# evaluation there: checks that the package's declared dependencies are enough on a clean system.
# Needs root, debootstrap and access to a Debian mirror. usage: tools/test-deb-in-chroot.sh PACKAGE.deb [ROOT]
set -euo pipefail
deb=$(readlink -f "$1")
root=${2:-/tmp/lmscope-bookworm}
if [ ! -x "$root/usr/bin/apt-get" ]; then
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian
fi
cp "$deb" "$root/tmp/"
mountpoint -q "$root/proc" || mount -t proc proc "$root/proc"
trap 'umount "$root/proc" 2>/dev/null || true' EXIT
chroot "$root" apt-get update -qq
# apt resolves the package's Depends from the mirror, as a user's `apt install ./lmscope_*.deb` would.
chroot "$root" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "/tmp/$(basename "$deb")"
chroot "$root" dpkg -s lmscope | grep -E '^(Version|Depends):'
chroot "$root" env HOME=/root lmscope-cli demo
# The demo report: the installed GUI draws the figures headless (its Qt platform plugins come with libqt6gui6).
chroot "$root" env HOME=/root lmscope-cli demo --report /tmp/demo-report
chroot "$root" test -s /tmp/demo-report/perplexity_vs_length.png
chroot "$root" test -s /tmp/demo-report/comparison.tex
chroot "$root" env HOME=/root lmscope-cli run --model /usr/share/lmscope/models/demo-llama \
  --task passkey --settings '{"lengths": [300], "depths": [0.5], "trials": 1}' --store /tmp/s.sqlite --out /tmp/r.json
chroot "$root" test -s /tmp/r.json
chroot "$root" test -f /usr/share/applications/lmscope.desktop
echo "test-deb-in-chroot: ok ($(basename "$deb") installed and ran in $root)"
