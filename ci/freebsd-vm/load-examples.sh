#!/bin/sh
# Runs in a FreeBSD VM, as root, from the repository checkout (the GitHub workflow's
# `freebsd` job, through vmactions/freebsd-vm):
#
#   ci/freebsd-vm/load-examples.sh RELEASE KODIR
#
# For every example (examples/<name>/Cargo.toml), with the lines of its
# examples/<name>/expected-console.txt (the file the simulator tests check the console
# against), loads KODIR/<module>.ko (built on Linux by
# `cargo kmod build --freebsd RELEASE`), runs the commands of its
# examples/<name>/expected-exec.txt when it has one (exec-commands.sh: the same commands and
# transcript the simulator test `every_example_runs_its_expected_exec` gives to
# `cargo kmod run --exec`), unloads it, and checks the kernel message buffer:
# every expected line in order (expect-console.sh; the `--- console` section of
# expected-exec.txt when it has one), and no panic, leak warning
# (kern_malloc.c malloc_uninit: "Warning: memory type %s leaked memory on destroy"),
# lock-order reversal or refused unload. RELEASE names the bindings (13.1, 14.0, 15.0);
# their __FreeBSD_version comes from releases/v<RELEASE>/release.toml. Exit 1 on any failure.
set -eu
if [ $# -ne 2 ]; then
  echo "usage: $0 RELEASE KODIR" >&2
  exit 2
fi
release=$1 kodir=$2
here=$(dirname "$0")
toml="releases/v$(echo "$release" | tr . _)/release.toml"
version=$(sed -n 's/^freebsd_version *= *\([0-9][0-9]*\).*/\1/p' "$toml")
if [ -z "$version" ]; then
  echo "load-examples: no freebsd_version in $toml" >&2
  exit 2
fi
echo "load-examples: $(uname -r) kernel, modules built for FreeBSD $release (__FreeBSD_version $version)"
log=$(mktemp)
console=$(mktemp)
trap 'rm -f "$log" "$console"' EXIT
pass=0 fail=0
for manifest in examples/*/Cargo.toml; do
  example=$(basename "$(dirname "$manifest")")
  expected="examples/$example/expected-console.txt"
  module=$(echo "$example" | tr - _)
  ko="$kodir/$module.ko"
  echo "== $example: kldload $ko"
  if [ ! -f "$expected" ]; then
    echo "FAIL $example: no $expected (every example lists the console lines it prints)" >&2
    fail=$((fail + 1)); continue
  fi
  if [ ! -f "$ko" ]; then
    echo "FAIL $example: $ko was not built" >&2
    fail=$((fail + 1)); continue
  fi
  # dmesg -c clears the message buffer after printing it (sbin/dmesg/dmesg.c sets
  # kern.msgbuf_clear), so the log below holds this module's lines only.
  dmesg -c >/dev/null
  ok=1
  exec_file="examples/$example/expected-exec.txt"
  : > "$console"
  if ! kldload "$ko"; then
    echo "FAIL $example: kldload refused $ko" >&2
    ok=0
  elif [ -f "$exec_file" ] && ! {
      echo "== $example: the commands of $exec_file"
      sh "$here/exec-commands.sh" "$exec_file" "$release" "$version" "$console"
    }; then
    echo "FAIL $example: a command of $exec_file failed or printed other lines" >&2
    ok=0
    kldunload "$module.ko" || echo "FAIL $example: kldunload $module.ko refused" >&2
  # kldunload NAME: kern_linker.c linker_find_file_by_name matches "NAME" or "NAME.ko".
  elif ! kldunload "$module.ko"; then
    echo "FAIL $example: kldunload $module.ko refused" >&2
    ok=0
  fi
  dmesg > "$log"
  sed 's/^/  | /' "$log"
  # The commands change what some modules print at unload: expected-exec.txt's
  # `--- console` section then lists the console lines of a run with them.
  console_expected=$expected
  if [ -s "$console" ]; then console_expected=$console; fi
  if ! sh "$here/expect-console.sh" "$console_expected" "$release" "$version" "$log"; then
    echo "FAIL $example: a line of $console_expected is missing from dmesg" >&2
    ok=0
  fi
  if grep -E -i "panic|leaked memory on destroy|lock order reversal|witness" "$log" >&2; then
    echo "FAIL $example: panic, leak or lock warning in dmesg" >&2
    ok=0
  fi
  if [ "$ok" = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "load-examples: FreeBSD $(uname -r), $release modules: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 0 ]
