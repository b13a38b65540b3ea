#!/usr/bin/env bash
# The release matrix: every example module x every release folder is built, checked against
# what the amd64 kernel linker accepts (`cargo kmod build`), and run in the kernel simulator
# (`cargo kmod run --cycles 1000 --nowait-sweep`: 1000 leak-free load/unload cycles, then
# every M_NOWAIT allocation failed in turn). Once per release all examples are also loaded
# together (each .ko localises its symbols; each carries the crate malloc type, named after the module).
# Fails, never skips, when the kernel toolchain or anything else is missing.
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
if [ ${#releases[@]} -eq 0 ] || [ ${#examples[@]} -eq 0 ]; then
  echo "matrix: no release folders (releases/v*_*) or no examples (examples/*/Cargo.toml)" >&2
  exit 1
fi

pass=0 fail=0
failed=()
step() { # name, command...
  local name=$1; shift
  echo "== matrix: $name: $*"
  if "$@"; then
    pass=$((pass + 1))
  else
    fail=$((fail + 1)); failed+=("$name")
  fi
}
for r in "${releases[@]}"; do
  release=${r/_/.}
  for ex in "${examples[@]}"; do
    step "build+check $ex@$release" cargo kmod build -j 2 --freebsd "$release" "$ex"
    step "run $ex@$release" cargo kmod run -j 2 --freebsd "$release" "$ex" --cycles 1000 --nowait-sweep
  done
  if [ ${#examples[@]} -gt 1 ]; then
    step "run together@$release" cargo kmod run -j 2 --freebsd "$release" "${examples[@]}" --cycles 100
  fi
done
echo "matrix: ${#examples[@]} examples x ${#releases[@]} releases: $pass steps passed, $fail failed ${failed[*]:-}"
[ "$fail" -eq 0 ]
