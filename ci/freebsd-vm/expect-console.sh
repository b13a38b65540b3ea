#!/bin/sh
# Checks that a console log (the simulator's console, or `dmesg` on a real FreeBSD host)
# holds an example's expected lines in order (other lines may come between them).
#
#   expect-console.sh [-x] EXPECTED RELEASE FREEBSD_VERSION LOG
#
# EXPECTED is examples/<name>/expected-console.txt, the file the simulator tests read
# (cargo_kmod::expected_console implements the same rules): one line per expected console
# line, `#` comments, {release} and {freebsd_version} replaced by RELEASE (the bindings'
# release, e.g. 14.0) and FREEBSD_VERSION (its __FreeBSD_version), and a line ending in
# "..." matching any line that starts with the text before it. POSIX sh + awk: runs on
# Linux and in the FreeBSD VMs. Exit 1, naming the first missing line, when one is missing.
# With -x the log must be exactly the expected lines (no other lines between or after
# them): how ci/freebsd-vm/exec-commands.sh checks a command transcript, like
# cargo_kmod::expected_exec::check.
set -eu
exact=0
if [ "${1:-}" = -x ]; then exact=1; shift; fi
if [ $# -ne 4 ]; then
  echo "usage: $0 [-x] EXPECTED RELEASE FREEBSD_VERSION LOG" >&2
  exit 2
fi
expected=$1 release=$2 version=$3 log=$4
for f in "$expected" "$log"; do
  [ -f "$f" ] || { echo "expect-console: $f: no such file" >&2; exit 2; }
done
awk -v rel="$release" -v fv="$version" -v exact="$exact" '
  # Numeric indices: an unset i would index want[""], not want[0].
  BEGIN { n = 0; i = 0; bad = "" }
  function subst(s, from, to,    i, out) {
    out = ""
    while ((i = index(s, from)) > 0) {
      out = out substr(s, 1, i - 1) to
      s = substr(s, i + length(from))
    }
    return out s
  }
  FNR == NR {
    if ($0 ~ /^#/ || $0 ~ /^[ \t]*$/) next
    line = subst(subst($0, "{release}", rel), "{freebsd_version}", fv)
    want[n++] = line
    next
  }
  function matches(line, w) {
    if (length(w) >= 3 && substr(w, length(w) - 2) == "...")
      return index(line, substr(w, 1, length(w) - 3)) == 1
    return line == w
  }
  exact && bad == "" {
    if (i >= n) bad = sprintf("line %d: extra line: %s", FNR, $0)
    else if (!matches($0, want[i])) bad = sprintf("line %d: expected `%s`, got `%s`", FNR, want[i], $0)
    else i++
    next
  }
  !exact && i < n && matches($0, want[i]) { i++ }
  END {
    if (bad != "") {
      printf "expect-console: %s\n", bad > "/dev/stderr"
      exit 1
    }
    if (i < n) {
      printf "expect-console: missing line %d of %d: %s\n", i + 1, n, want[i] > "/dev/stderr"
      exit 1
    }
    printf "expect-console: all %d expected lines found in order\n", n
  }
' "$expected" "$log"
