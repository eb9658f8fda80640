#!/usr/bin/env bash
# run_fuzzer.sh BINARY SECONDS WORK_DIR SEED_DIR
# Runs a libFuzzer target over SEED_DIR (read only) and WORK_DIR (new inputs)
# for SECONDS; crash inputs go to WORK_DIR/../../artifacts/. Exits non-zero
# when the fuzzer finds a crash, leak, timeout or sanitizer report.
set -euo pipefail
bin=$1 seconds=$2 work=$3 seeds=$4
name=$(basename "$bin")
artifacts="$(dirname "$(dirname "$work")")/artifacts"
mkdir -p "$work" "$artifacts"
[ -d "$seeds" ] && [ -n "$(ls -A "$seeds")" ] || { echo "no seed corpus in $seeds" >&2; exit 2; }
# Single process, bounded memory and per-input time; -max_len fits the
# biggest seed with room to grow.
exec "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$artifacts/$name-" "$work" "$seeds"
