#!/bin/sh
# Runs an example's commands (examples/<name>/expected-exec.txt, the file the simulator test
# `every_example_runs_its_expected_exec` gives to `cargo kmod run --exec`) with `sh -c`, in
# order, and checks their transcript against the file, as that test does:
#
#   exec-commands.sh EXPECTED_EXEC RELEASE FREEBSD_VERSION [CONSOLE_OUT]
#
# Called by ci/freebsd-vm/load-examples.sh as root between kldload and kldunload. A
# `$ COMMAND` line is a command; the lines after it are what it prints (standard output and
# standard error together), up to an optional `--- console` line. Comments, {release},
# {freebsd_version} and trailing "..." as in expected-console.txt (expect-console.sh -x: the
# transcript must be exactly these lines; cargo_kmod::expected_exec implements the same
# rules). Every command must exit 0, as `--exec` requires. CONSOLE_OUT receives the
# `--- console` section (the console lines of a run with these commands), empty when there
# is none. Exit 1 on a failing command or a transcript that differs.
set -eu
if [ $# -ne 3 ] && [ $# -ne 4 ]; then
  echo "usage: $0 EXPECTED_EXEC RELEASE FREEBSD_VERSION [CONSOLE_OUT]" >&2
  exit 2
fi
expected=$1 release=$2 version=$3 console_out=${4:-}
here=$(dirname "$0")
[ -f "$expected" ] || { echo "exec-commands: $expected: no such file" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# The transcript part and the console part of the file.
awk -v t="$tmp/transcript.expected" -v c="$tmp/console.expected" '
  BEGIN { printf "" > t; printf "" > c; out = t }
  $0 == "--- console" && out == t { out = c; next }
  { print > out }
' "$expected"
if [ -n "$console_out" ]; then cp "$tmp/console.expected" "$console_out"; fi
# The commands, placeholders replaced as for the expected lines.
awk -v rel="$release" -v fv="$version" '
  function subst(s, from, to,    i, out) {
    out = ""
    while ((i = index(s, from)) > 0) {
      out = out substr(s, 1, i - 1) to
      s = substr(s, i + length(from))
    }
    return out s
  }
  substr($0, 1, 2) == "$ " { print subst(subst(substr($0, 3), "{release}", rel), "{freebsd_version}", fv) }
' "$tmp/transcript.expected" > "$tmp/commands"
if [ ! -s "$tmp/commands" ]; then
  echo "exec-commands: $expected: no \`\$ COMMAND\` line" >&2
  exit 2
fi
status=0
: > "$tmp/transcript"
while IFS= read -r cmd; do
  printf '$ %s\n' "$cmd" >> "$tmp/transcript"
  # Standard input from /dev/null: the commands must not read this loop's list.
  if ! sh -c "$cmd" >> "$tmp/transcript" 2>&1 < /dev/null; then
    echo "exec-commands: command \`$cmd\` failed" >&2
    status=1
  fi
done < "$tmp/commands"
sed 's/^/  > /' "$tmp/transcript"
if ! sh "$here/expect-console.sh" -x "$tmp/transcript.expected" "$release" "$version" "$tmp/transcript"; then
  echo "exec-commands: the transcript differs from $expected" >&2
  status=1
fi
exit "$status"
