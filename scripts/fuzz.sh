#!/usr/bin/env bash
# Runs every fuzz target for SECONDS (default 60) on the stable toolchain
# (cargo-fuzz needs nightly features: RUSTC_BOOTSTRAP=1 enables them), each
# from its committed seeds in fuzz/corpus/<target>/. A crash stops the run
# with the target's name; its input is in fuzz/artifacts/<target>/.
#   scripts/fuzz.sh [SECONDS] [TARGET ...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked
fi
export RUSTC_BOOTSTRAP=1
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    mapfile -t targets < <(cargo fuzz list --fuzz-dir fuzz)
fi
for target in "${targets[@]}"; do
    mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
    before=$(ls "fuzz/artifacts/$target" | wc -l)
    echo "== $target: ${seconds} s"
    # -rss_limit_mb: the provider's target holds a server; 4 GB is plenty.
    cargo fuzz run --fuzz-dir fuzz "$target" "fuzz/corpus/$target" -- \
        -max_total_time="$seconds" -rss_limit_mb=4096 -print_final_stats=1 2>&1 \
        | grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|==|SUMMARY|Done)|panicked|ERROR' || true
    if [ "$(ls "fuzz/artifacts/$target" | wc -l)" -gt "$before" ]; then
        echo "$target: a crash, see fuzz/artifacts/$target/" >&2
        exit 1
    fi
done
