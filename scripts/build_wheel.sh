#!/usr/bin/env bash
# Build the optverify wheel (CLI binary via maturin `bin` bindings + python/optverify) into
# dist/. Needs maturin (`pip install maturin`, or set MATURIN=/path/to/maturin) and the Rust
# toolchain; crates come from crates.io through Cargo.lock (--locked). Extra arguments go to
# `maturin build` (e.g. --target, --compatibility).
set -euo pipefail
cd "$(dirname "$0")/.."
MATURIN=${MATURIN:-maturin}
if ! command -v "$MATURIN" >/dev/null 2>&1; then
    echo "error: maturin not found; install it with 'python3 -m pip install maturin' or set MATURIN" >&2
    exit 2
fi
"$MATURIN" build --release --locked --strip --out dist "$@"
ls -l dist/optverify-*.whl
