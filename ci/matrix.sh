#!/usr/bin/env bash
# The release matrix: every example module x every release folder is built, checked
# against what the amd64 kernel linker accepts and (once `cargo kmod run` exists) run in
# the simulator. Fails, never skips, when the kernel toolchain is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

releases=()
for dir in releases/v*_*/; do
  folder=$(basename "$dir")            # v14_0
  releases+=("${folder#v}")            # 14_0
done
examples=()
for manifest in examples/*/Cargo.toml; do
  examples+=("$(basename "$(dirname "$manifest")")")
done

pass=0 fail=0
failed=()
for r in "${releases[@]}"; do
  release=${r/_/.}
  for ex in "${examples[@]}"; do
    echo "== matrix: $ex for FreeBSD $release"
    if cargo kmod build --freebsd "$release" "$ex"; then
      pass=$((pass + 1))
    else
      fail=$((fail + 1)); failed+=("$ex@$release")
    fi
  done
done
echo "matrix: ${#examples[@]} examples x ${#releases[@]} releases: $pass passed, $fail failed ${failed[*]:-}"
[ "$fail" -eq 0 ]
