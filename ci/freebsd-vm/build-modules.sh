#!/usr/bin/env bash
# Cross-builds every example .ko for every release folder on Linux (the GitHub workflow's
# `modules` job) into OUT/<release>/<module>.ko, checked by `cargo kmod build` like
# ci/matrix.sh does, for the FreeBSD VM jobs (ci/freebsd-vm/load-examples.sh).
#
#   ci/freebsd-vm/build-modules.sh [OUT]      (default: target/freebsd-vm-modules)
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-target/freebsd-vm-modules}
rm -rf "$out"
for dir in releases/v*_*/; do
  folder=$(basename "$dir")            # v14_0
  release=${folder#v}; release=${release/_/.}
  for manifest in examples/*/Cargo.toml; do
    example=$(basename "$(dirname "$manifest")")
    module=${example//-/_}
    cargo kmod build -j 2 --freebsd "$release" "$example"
    mkdir -p "$out/$release"
    cp "target/kmod/$release/$module.ko" "$out/$release/"
  done
done
find "$out" -name '*.ko' | sort
