#!/usr/bin/env bash
# Publishability of the four crates, in dependency order: freebsd-kpi-rs, then
# freebsd-kmi-rs, freebsd-kernel-sim and cargo-kmod (which depend on it by path + version).
#
# One `cargo package` packages all four and verifies each tarball (builds it from the
# packaged sources): cargo resolves a packaged crate's dependencies on the others through a
# local registry overlay of the tarballs made before it, so nothing needs to be on
# crates.io yet (package them one at a time and freebsd-kmi-rs would need
# `cargo package --no-verify` until freebsd-kpi-rs is published).
# `--features freebsd-kpi-rs/catalog`: freebsd-kpi-rs has no default release feature and
# refuses to build without one; its catalog (every release's tables, the tools' view) builds
# alone, and the other three enable it anyway.
#
# Then the docs.rs builds: `cargo doc` with each crate's [package.metadata.docs.rs]
# features (one release feature for the kernel-facing crates).
set -euo pipefail
cd "$(dirname "$0")/.."

crates=(freebsd-kpi-rs freebsd-kmi-rs freebsd-kernel-sim cargo-kmod)
args=()
for c in "${crates[@]}"; do args+=(-p "$c"); done
# cargo extracts the tarballs of that overlay under $CARGO_HOME/registry/src/-<hash>/ (the
# hash is of the workspace path) and never extracts a name-version again once it is there,
# and it treats what it built from them as fresh wherever it finds it (registry crates are
# immutable to cargo): packaging changed sources in the same folder again would verify
# against the old ones. So the extractions go, and packaging builds in a target directory of
# its own (target/ci-package), started afresh.
rm -rf target/ci-package
cargo_home=${CARGO_HOME:-$HOME/.cargo}
for c in "${crates[@]}"; do
  rm -rf "$cargo_home"/registry/src/-*/"$c"-[0-9]*
done
echo "ci/package.sh: cargo package ${crates[*]}"
cargo package "${args[@]}" --features freebsd-kpi-rs/catalog --allow-dirty -j 2 --target-dir target/ci-package
ls -l target/ci-package/package/*.crate

echo "ci/package.sh: docs.rs builds"
RUSTDOCFLAGS="-D warnings" cargo doc -j 2 --no-deps -p freebsd-kpi-rs --features freebsd-15,catalog
RUSTDOCFLAGS="-D warnings" cargo doc -j 2 --no-deps -p freebsd-kmi-rs --no-default-features --features freebsd-15,GLOBAL_ALLOC_FLAG_WAITOK
echo "ci/package.sh: ok"
