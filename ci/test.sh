#!/usr/bin/env bash
# The whole test suite (README's test command; .ci/run calls it): installs the kernel
# toolchain if missing, lints the shell scripts and the GitHub workflow (ci/lint.sh runs
# ShellCheck and actionlint), checks that the crates package (ci/package.sh), runs the example x
# release matrix, then every workspace test, and ends with one summary line over every test
# binary.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup-toolchain.sh
bash ci/lint.sh
bash ci/package.sh
bash ci/matrix.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
cargo test --workspace --no-fail-fast 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# "test result: ok. 38 passed; 0 failed; ..." per test binary.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit "$status"
