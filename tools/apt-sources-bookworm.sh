#!/usr/bin/env bash
# Prints the Debian 12 (bookworm) package sources this machine's apt uses, one "URI SUITE COMPONENT..." line each:
# the bookworm, bookworm-updates and bookworm-security entries of /etc/apt/sources.list, sources.list.d/*.list and
# sources.list.d/*.sources (deb822), binary ("deb") only, enabled only. The first line is the main archive (suite
# bookworm): tools/test-deb-in-chroot.sh bootstraps from it. No mirror is named here: the machine's configuration
# says which one. Entries signed by a key other than Debian's archive keyring are left out (another vendor's
# repository that happens to name its suite bookworm is no Debian mirror).
#   tools/apt-sources-bookworm.sh [APT_DIR]       (default /etc/apt)
set -euo pipefail
apt_dir=${1:-/etc/apt}
shopt -s nullglob

# one-line format: deb [opt=value ...] URI SUITE COMPONENT...
one_line() {
  awk '
    { sub(/#.*/, "") }
    $1 != "deb" { next }
    {
      line = $0; sub(/^[ \t]*deb[ \t]+/, "", line)
      signed = ""
      if (line ~ /^\[/) {
        opts = substr(line, 2, index(line, "]") - 2); line = substr(line, index(line, "]") + 1)
        n = split(opts, o, /[ \t]+/)
        for (i = 1; i <= n; i++) if (o[i] ~ /^signed-by=/) signed = substr(o[i], 11)
      }
      n = split(line, f, /[ \t]+/); k = 0
      for (i = 1; i <= n; i++) if (f[i] != "") w[++k] = f[i]
      if (k < 3) next
      comps = w[3]; for (i = 4; i <= k; i++) comps = comps " " w[i]
      print signed "\t" w[1] "\t" w[2] "\t" comps
    }' "$@"
}

# deb822 format: stanzas of "Field: value" separated by blank lines; a line starting with a space continues a field.
deb822() {
  awk '
    function flush() {
      if (types ~ /(^| )deb( |$)/ && tolower(enabled) != "no")
        for (u = 1; u <= split(uris, U, / +/); u++) for (s = 1; s <= split(suites, S, / +/); s++)
          if (U[u] != "" && S[s] != "") print signed "\t" U[u] "\t" S[s] "\t" comps
      types = uris = suites = comps = signed = enabled = ""; last = ""
    }
    /^[ \t]*#/ { next }
    /^[ \t]*$/ { flush(); next }
    /^[ \t]/ { if (last != "") { v = $0; gsub(/^[ \t]+|[ \t]+$/, "", v); val[last] = val[last] " " v; set(last, val[last]) } next }
    function set(k, v) {
      if (k == "types") types = v; else if (k == "uris") uris = v; else if (k == "suites") suites = v
      else if (k == "components") comps = v; else if (k == "signed-by") signed = v; else if (k == "enabled") enabled = v
    }
    {
      k = tolower(substr($0, 1, index($0, ":") - 1)); v = substr($0, index($0, ":") + 1)
      gsub(/^[ \t]+|[ \t]+$/, "", v); gsub(/[ \t]+/, " ", v)
      last = k; val[k] = v; set(k, v)
    }
    END { flush() }' "$@"
}

{
  lists=("$apt_dir"/sources.list "$apt_dir"/sources.list.d/*.list)
  for f in "${lists[@]}"; do [ -f "$f" ] && one_line "$f"; done
  for f in "$apt_dir"/sources.list.d/*.sources; do deb822 "$f"; done
} | awk -F'\t' '
  $3 !~ /^bookworm(-updates|-security)?$/ { next }
  $1 != "" && $1 !~ /\/debian-archive-keyring\.gpg$/ && $1 !~ /\/debian-archive-bookworm[a-z-]*\.(gpg|asc)$/ { next }
  !seen[$2 " " $3]++ { print ($3 == "bookworm" ? 0 : 1) "\t" NR "\t" $2 " " $3 " " $4 }' |
  sort -t$'\t' -k1,1n -k2,2n | cut -f3
