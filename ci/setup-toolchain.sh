#!/usr/bin/env bash
# Installs what building and testing FreeBSD kernel modules needs on a Debian machine
# (idempotent; run as root or with sudo available):
#   rustc-web cargo-web rust-web-src  rustc/cargo 1.96 with the standard library source,
#                                      used with RUSTC_BOOTSTRAP=1 for -Z build-std
#   lld-22 llvm-22                     ld.lld and llvm-objcopy matching rustc's LLVM 22
#   gcc binutils                       C twins of the examples and hand-made test objects
#   python3-pip / unzip                FreeBSD headers from PyPI's ziglang wheels
# Elsewhere: `rustup toolchain install nightly -c rust-src` plus an lld replaces the first two.
set -euo pipefail

packages=(rustc-web cargo-web rust-web-src lld-22 llvm-22 gcc binutils unzip)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup-toolchain: installing ${missing[*]}" >&2
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
if ! command -v pip3 >/dev/null && ! python3 -m pip --version >/dev/null 2>&1; then
  echo "setup-toolchain: python3 with pip is needed for the FreeBSD header wheels (apt-get install -y python3-pip)" >&2
  exit 1
fi
test -f /usr/lib/rustlib/src/rust/library/core/Cargo.toml || {
  echo "setup-toolchain: rust-web-src did not provide /usr/lib/rustlib/src/rust/library" >&2; exit 1; }
test -x /usr/lib/llvm-22/bin/ld.lld || { echo "setup-toolchain: lld-22 did not provide /usr/lib/llvm-22/bin/ld.lld" >&2; exit 1; }
echo "setup-toolchain: $(/usr/bin/rustc --version), $(/usr/lib/llvm-22/bin/ld.lld --version | head -1)" >&2
