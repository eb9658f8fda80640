#!/usr/bin/env bash
# Interop test: awscli and rclone against s3sim.
# Usage: s3sim_interop.sh /path/to/s3sim
# Starts s3sim on a free port, drives both tools through bucket creation,
# multipart uploads, listing, sync and deletes, and checks that a 64 MiB
# object round-trips byte-exactly, that its ETag has the md5-of-md5s-N form
# and that both tools agree on it, and that a wrong secret gets 403
# SignatureDoesNotMatch. Prints each step; exits non-zero on the first failure.
set -euo pipefail

S3SIM=${1:?usage: $0 /path/to/s3sim}
# awscli v2 from Debian (a pip-installed v1 earlier in PATH must not stand in).
AWS=${FERRY_AWSCLI:-/usr/bin/aws}
[ -x "$AWS" ] || { echo "FAIL: $AWS not found (scripts/bootstrap installs awscli)"; exit 1; }
"$AWS" --version 2>&1 | grep -q '^aws-cli/2' || { echo "FAIL: $AWS is not awscli v2"; exit 1; }
command -v rclone >/dev/null || { echo "FAIL: rclone not found"; exit 1; }

work=$(mktemp -d)
sim_pid=""
cleanup() {
  if [ -n "$sim_pid" ]; then kill "$sim_pid" 2>/dev/null || true; wait "$sim_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { echo "== $*"; }
fail() { echo "FAIL: $*"; echo "-- s3sim output:"; cat "$work/sim.log" || true; exit 1; }

AK=interopkey
SK=interopsecret
"$S3SIM" --listen 127.0.0.1:0 --access-key "$AK" --secret-key "$SK" --bucket seed \
  --data-dir "$work/data" --port-file "$work/port" >"$work/sim.log" 2>&1 &
sim_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
[ -s "$work/port" ] || fail "s3sim did not start"
port=$(cat "$work/port")
endpoint="http://127.0.0.1:$port"
step "s3sim listening on $endpoint"

# The tools must reach only the simulator, over plain HTTP.
unset AWS_CA_BUNDLE AWS_PROFILE AWS_SESSION_TOKEN HTTP_PROXY HTTPS_PROXY http_proxy https_proxy || true
export AWS_ACCESS_KEY_ID=$AK AWS_SECRET_ACCESS_KEY=$SK AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE="$work/aws-config" AWS_SHARED_CREDENTIALS_FILE="$work/aws-credentials"
cat >"$AWS_CONFIG_FILE" <<CFG
[default]
region = us-east-1
s3 =
  multipart_threshold = 8MB
  multipart_chunksize = 8MB
  addressing_style = path
CFG
: >"$AWS_SHARED_CREDENTIALS_FILE"
aws_() { timeout 120 "$AWS" --endpoint-url "$endpoint" "$@"; }

export RCLONE_CONFIG="$work/rclone.conf"
: >"$RCLONE_CONFIG"
export RCLONE_CONFIG_SIM_TYPE=s3 RCLONE_CONFIG_SIM_PROVIDER=Other
export RCLONE_CONFIG_SIM_ENDPOINT=$endpoint RCLONE_CONFIG_SIM_ACCESS_KEY_ID=$AK
export RCLONE_CONFIG_SIM_SECRET_ACCESS_KEY=$SK RCLONE_CONFIG_SIM_REGION=us-east-1
rclone_() { timeout 120 rclone --s3-chunk-size 8M --s3-upload-cutoff 8M --low-level-retries 1 --retries 1 "$@"; }

step "aws s3 mb"
aws_ s3 mb s3://interop >/dev/null || fail "aws s3 mb"
buckets=$(aws_ s3 ls) || fail "aws s3 ls"
echo "$buckets"
grep -q " interop$" <<<"$buckets" || fail "aws s3 ls does not show the new bucket"

step "aws s3 cp (multipart) of a 64 MiB random file"
head -c $((64 << 20)) /dev/urandom >"$work/big"
aws_ s3 cp --only-show-errors "$work/big" s3://interop/aws/big.bin || fail "aws s3 cp upload"
aws_ s3 cp --only-show-errors s3://interop/aws/big.bin "$work/big.aws" || fail "aws s3 cp download"
cmp "$work/big" "$work/big.aws" || fail "awscli round trip differs"
aws_etag=$(aws_ s3api head-object --bucket interop --key aws/big.bin --query ETag --output text | tr -d '"')
echo "awscli ETag: $aws_etag"
[[ "$aws_etag" =~ ^[0-9a-f]{32}-8$ ]] || fail "ETag '$aws_etag' is not md5-of-md5s-8"
# Recompute the expected ETag from 8 MiB parts.
expect=$(python3 - "$work/big" <<'PY'
import hashlib, sys
md5s = b""
n = 0
with open(sys.argv[1], "rb") as f:
    while True:
        chunk = f.read(8 << 20)
        if not chunk: break
        md5s += hashlib.md5(chunk).digest(); n += 1
print(hashlib.md5(md5s).hexdigest() + "-" + str(n))
PY
)
[ "$aws_etag" = "$expect" ] || fail "ETag $aws_etag != expected $expect"
parts=$(aws_ s3api head-object --bucket interop --key aws/big.bin --part-number 2 --query PartsCount --output text)
[ "$parts" = "8" ] || fail "HEAD ?partNumber=2 PartsCount=$parts, want 8"

step "aws s3 ls / sync / rm"
mkdir -p "$work/dir/sub"
echo one >"$work/dir/a.txt"; echo "two two" >"$work/dir/sub/b c.txt"; echo "+plus" >"$work/dir/sub/x+y.txt"
aws_ s3 sync --only-show-errors "$work/dir" s3://interop/synced || fail "aws s3 sync"
listing=$(aws_ s3 ls --recursive s3://interop/synced/)
echo "$listing"
[ "$(echo "$listing" | wc -l)" = 3 ] || fail "sync listing has $(echo "$listing" | wc -l) lines, want 3"
grep -q "synced/sub/b c.txt" <<<"$listing" || fail "key with a space missing from listing"
aws_ s3 sync --only-show-errors s3://interop/synced "$work/dir.back" || fail "aws s3 sync back"
diff -r "$work/dir" "$work/dir.back" || fail "synced tree differs"
aws_ s3 rm --only-show-errors --recursive s3://interop/synced || fail "aws s3 rm"
[ -z "$(aws_ s3 ls --recursive s3://interop/synced/)" ] || fail "objects left after rm"

step "rclone copy of a 64 MiB file, lsjson --hash, md5sum"
rclone_ copyto "$work/big" sim:interop/rclone/big.bin 2>"$work/rclone.err" || { cat "$work/rclone.err"; fail "rclone copyto"; }
rclone_ copyto sim:interop/rclone/big.bin "$work/big.rclone" 2>>"$work/rclone.err" || fail "rclone download"
cmp "$work/big" "$work/big.rclone" || fail "rclone round trip differs"
rclone_ lsjson --hash sim:interop/rclone 2>>"$work/rclone.err" | tee "$work/lsjson"
local_md5=$(md5sum "$work/big" | cut -d' ' -f1)
grep -q "\"md5\":\"$local_md5\"" "$work/lsjson" || fail "rclone lsjson md5 is not the file's MD5"
rclone_ md5sum sim:interop/aws 2>>"$work/rclone.err" | tee "$work/md5sum"
rc_etag=$(aws_ s3api head-object --bucket interop --key rclone/big.bin --query ETag --output text | tr -d '"')
echo "rclone-uploaded ETag seen by awscli: $rc_etag"
[ "$rc_etag" = "$expect" ] || fail "rclone upload ETag $rc_etag != $expect (same 8 MiB parts)"
# Each tool reads the other's upload: both see the same ETag for aws/big.bin.
rclone_ lsjson sim:interop/aws --no-modtime 2>>"$work/rclone.err" >/dev/null || fail "rclone lsjson aws/"
rclone_ copyto sim:interop/aws/big.bin "$work/big.cross" 2>>"$work/rclone.err" || fail "rclone reads awscli upload"
cmp "$work/big" "$work/big.cross" || fail "rclone read of the awscli upload differs"
aws_ s3 cp --only-show-errors s3://interop/rclone/big.bin "$work/big.cross2" || fail "awscli reads rclone upload"
cmp "$work/big" "$work/big.cross2" || fail "awscli read of the rclone upload differs"

step "wrong secret is refused"
if out=$(AWS_SECRET_ACCESS_KEY=not-the-secret timeout 60 "$AWS" --endpoint-url "$endpoint" s3api list-objects-v2 --bucket interop 2>&1); then
  fail "wrong secret was accepted"
fi
echo "$out"
grep -q SignatureDoesNotMatch <<<"$out" || fail "wrong secret did not get SignatureDoesNotMatch"

step "server counters"
curl -sf "$endpoint/_sim/stats" || fail "admin stats"
echo
echo "PASS: awscli and rclone interoperate with s3sim"
