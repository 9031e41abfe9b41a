#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) on the stable toolchain
# (cargo-fuzz needs nightly features: RUSTC_BOOTSTRAP=1 enables them), each
# from its committed seeds in fuzz/corpus/<target>/. Any failure (a crash, a
# leak, a unit over the time or memory limit, a build that fails) stops the
# run with the target's name and libFuzzer's report; a crash's input is in
# fuzz/artifacts/<target>/. Executions per target are printed as they end.
#   scripts/fuzz.sh [SECONDS] [TARGET ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --version 0.13.2 --locked
fi
export RUSTC_BOOTSTRAP=1
# As cargo fuzz runs them (Rust binaries trip the ODR check).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_odr_violation=0}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi
# One build of every target (release, AddressSanitizer, debug assertions),
# then each binary runs as built: an edit made meanwhile changes nothing.
cargo fuzz build --fuzz-dir fuzz
bin="fuzz/target/$(rustc -vV | sed -n 's/^host: //p')/release"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
printf '%-20s %12s %10s\n' target executions exec/s
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    # -timeout: no single input may take a minute; -rss_limit_mb: the
    # provider's target holds a whole server, 4 GB is plenty.
    if ! "$bin/$target" -artifact_prefix="fuzz/artifacts/$target/" \
        -max_total_time="$seconds" -timeout=60 -rss_limit_mb=4096 \
        -print_final_stats=1 "fuzz/corpus/$target" >"$log" 2>&1; then
        tail -n 60 "$log" >&2
        echo "fuzz target $target failed: the input that did it is in fuzz/artifacts/$target/" >&2
        exit 1
    fi
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    printf '%-20s %12s %10s\n' "$target" "${runs:-?}" "${rate:-?}"
done
