#!/bin/sh
# Fetch the real FreeBSD kernel headers that ship inside PyPI's ziglang wheels and print the
# include root (<root>/x86_64-freebsd-none and <root>/generic-freebsd go on the -I path, in
# that order).
#
#   ci/freebsd-headers.sh [14|15]
#     14 -> ziglang==0.15.2 (FreeBSD 14.2 headers, KBI-compatible with 14.0)
#     15 -> ziglang==0.17.0 (FreeBSD 15.0 headers)
#
# Cache: ${FREEBSD_HEADERS_DIR:-${FREEBSD_HEADERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/freebsd-kmi-rs/headers}}/<14|15>,
# outside the build tree so that it survives `cargo clean` and persists across CI runs on
# the same machine; reused when present (FREEBSD_HEADERS_DIR, the old override, still wins).
# Needs python3 with pip (Debian: apt-get install python3-pip) and network access to PyPI.
# Fails loudly (non-zero exit, message on stderr, nothing on stdout) otherwise.
set -eu

V=${1:-14}
case "$V" in
  14) PKG=ziglang==0.15.2 ;;
  15) PKG=ziglang==0.17.0 ;;
  *) echo "usage: $0 [14|15]" >&2; exit 2 ;;
esac

if [ -z "${FREEBSD_HEADERS_DIR:-}${FREEBSD_HEADERS_CACHE:-}${XDG_CACHE_HOME:-}" ] && [ -z "${HOME:-}" ]; then
  echo "freebsd-headers.sh: no cache directory: set FREEBSD_HEADERS_CACHE (or HOME / XDG_CACHE_HOME)" >&2
  exit 1
fi
CACHE=${FREEBSD_HEADERS_DIR:-${FREEBSD_HEADERS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/freebsd-kmi-rs/headers}}/$V
INC=$CACHE/ziglang/lib/libc/include

if [ -f "$INC/generic-freebsd/sys/module.h" ] && [ -d "$INC/x86_64-freebsd-none" ]; then
  echo "$INC"
  exit 0
fi

if ! command -v python3 >/dev/null 2>&1; then
  echo "freebsd-headers.sh: python3 not found (Debian: apt-get install python3 python3-pip)" >&2
  exit 1
fi
if ! python3 -m pip --version >/dev/null 2>&1; then
  echo "freebsd-headers.sh: pip not found (Debian: apt-get install python3-pip)" >&2
  exit 1
fi

TMP="$CACHE.tmp.$$"
rm -rf "$TMP"
mkdir -p "$TMP/wheel"
trap 'rm -rf "$TMP"' EXIT
echo "freebsd-headers.sh: downloading $PKG from PyPI ..." >&2
if ! python3 -m pip download --quiet --no-deps --only-binary=:all: -d "$TMP/wheel" "$PKG" >&2; then
  echo "freebsd-headers.sh: FAILED to download $PKG with pip (network or PyPI unreachable?)" >&2
  exit 1
fi
WHEEL=$(find "$TMP/wheel" -maxdepth 1 -name "*.whl" 2>/dev/null | head -n 1)
if [ -z "$WHEEL" ]; then
  echo "freebsd-headers.sh: FAILED: pip produced no wheel for $PKG" >&2
  exit 1
fi
# Extract only the FreeBSD libc/kernel headers (the wheel is large).
python3 - "$WHEEL" "$TMP/out" <<'PY'
import sys, zipfile
whl, out = sys.argv[1], sys.argv[2]
n = 0
with zipfile.ZipFile(whl) as z:
    for m in z.namelist():
        if m.startswith("ziglang/lib/libc/include/") and "freebsd" in m.split("/")[4]:
            z.extract(m, out)
            n += 1
if n == 0:
    sys.exit("freebsd-headers.sh: FAILED: no FreeBSD headers inside " + whl)
PY
if [ ! -f "$TMP/out/ziglang/lib/libc/include/generic-freebsd/sys/module.h" ]; then
  echo "freebsd-headers.sh: FAILED: sys/module.h missing from the extracted headers" >&2
  exit 1
fi
mkdir -p "$(dirname "$CACHE")"
rm -rf "$CACHE"
mv "$TMP/out" "$CACHE"
echo "$INC"
