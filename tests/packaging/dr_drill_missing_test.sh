#!/usr/bin/env bash
# scripts/dr-drill must fail, naming the object, when one file of a replicated
# backup is missing at the replica: the self-test replicates a backup, deletes
# one of its files at the replica, then runs the drill.
# Usage: dr_drill_missing_test.sh SOURCE_DIR BIN_DIR
set -uo pipefail
src=$1 bin=$2
victim=nightly-20261122-podvolumebackups.json.gz
out=$("$src/scripts/dr-drill" --self-test --bin-dir "$bin" --self-test-delete "$victim" 2>&1)
rc=$?
echo "$out"
if [ "$rc" -ne 1 ]; then
  echo "FAIL: dr-drill exited $rc, want 1"
  exit 1
fi
if ! grep -qF "FAIL: backups/nightly-20261122/$victim missing at the replica" <<<"$out"; then
  echo "FAIL: dr-drill did not name the missing object"
  exit 1
fi
echo "PASS: the drill names the missing object"
