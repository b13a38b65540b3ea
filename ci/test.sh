#!/usr/bin/env bash
# The whole test suite (README's test command; .ci/run calls it): installs the kernel
# toolchain if missing, runs the example x release matrix, then every workspace test.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup-toolchain.sh
bash ci/matrix.sh
cargo test --workspace --no-fail-fast
