#!/usr/bin/env bash
# Checks systemd/: the unit passes `systemd-analyze verify` (exit 0, no message
# about the unit file: unknown keys or sections, bad values), the sysusers.d
# file creates the User=/Group= of the unit, the tmpfiles.d file applies, and
# the unit keeps its required settings. Prints the offline security exposure.
# Usage: systemd_test.sh SOURCE_DIR FERRYD_BINARY
set -euo pipefail
src=$1 ferryd=$2
unit_src="$src/systemd/ferryd.service"
[ -x "$ferryd" ] || { echo "FAIL: ferryd binary $ferryd missing"; exit 1; }
work=$(mktemp -d /tmp/ferry-systemd-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
err() { echo "FAIL: $*"; fail=1; }

# 1. verify, with ExecStart pointing at the freshly built binary.
sed "s#^ExecStart=/usr/bin/ferryd #ExecStart=$ferryd #" "$unit_src" >"$work/ferryd.service"
grep -q "^ExecStart=$ferryd " "$work/ferryd.service" || err "ExecStart=/usr/bin/ferryd ... not found in the unit"
set +e
systemd-analyze verify --man=no "$work/ferryd.service" >"$work/verify.out" 2>&1
rc=$?
set -e
cat "$work/verify.out"
[ "$rc" -eq 0 ] || err "systemd-analyze verify exited $rc"
# Unknown keys only produce a message (exit stays 0): any line naming the
# unit file is a finding.
if grep -E "ferryd\.service" "$work/verify.out" >/dev/null; then
  err "systemd-analyze verify reported problems in the unit (above)"
fi

# 2. required settings (a test of intent: each must be present verbatim).
for line in Type=notify NotifyAccess=main User=ferry Group=ferry StateDirectory=ferry \
    RuntimeDirectory=ferry ConfigurationDirectory=ferry WatchdogSec=30s Restart=on-failure \
    'ExecReload=/bin/kill -HUP $MAINPID' NoNewPrivileges=yes ProtectSystem=strict ProtectHome=yes \
    PrivateTmp=yes PrivateDevices=yes ProtectKernelTunables=yes ProtectKernelModules=yes \
    ProtectKernelLogs=yes ProtectControlGroups=yes 'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6' \
    RestrictNamespaces=yes LockPersonality=yes MemoryDenyWriteExecute=yes \
    SystemCallFilter=@system-service SystemCallArchitectures=native CapabilityBoundingSet= \
    UMask=0027; do
  grep -qxF -- "$line" "$unit_src" || err "unit lacks '$line'"
done
grep -qE '^TimeoutStopSec=[0-9]' "$unit_src" || err "unit lacks TimeoutStopSec"
grep -qE '^LimitNOFILE=[0-9]' "$unit_src" || err "unit lacks LimitNOFILE"

# 3. io_uring must be allowed by the syscall filter the unit uses: expand
# @system-service (it names other sets such as @aio) from this systemd's tables.
systemd-analyze syscall-filter >"$work/sets.txt" 2>/dev/null || true
allowed=$(/usr/bin/python3 - "$work/sets.txt" <<'PY'
import sys
sets, cur = {}, None
for line in open(sys.argv[1]):
    t = line.strip()
    if not t or t.startswith("#"):
        continue
    if not line[0].isspace() and t.startswith("@"):
        cur = sets.setdefault(t, [])
    elif cur is not None:
        cur.append(t)
seen, out, todo = set(), set(), ["@system-service"]
while todo:
    s = todo.pop()
    if s in seen:
        continue
    seen.add(s)
    for m in sets.get(s, []):
        if m.startswith("@"):
            todo.append(m)
        else:
            out.add(m)
print(" ".join(sorted(out)))
PY
)
[ -n "$allowed" ] || err "could not expand @system-service"
for sc in io_uring_setup io_uring_enter io_uring_register; do
  if ! grep -qw "$sc" <<<"$allowed"; then
    grep -qE "^SystemCallFilter=.*\b$sc\b" "$unit_src" || err "$sc is neither in @system-service nor allowed explicitly"
  fi
done

# 4. sysusers.d creates the user and group the unit runs as.
mkdir -p "$work/root/etc"
systemd-sysusers --root="$work/root" "$src/systemd/ferry.sysusers" >"$work/sysusers.out" 2>&1 ||
  { cat "$work/sysusers.out"; err "systemd-sysusers failed"; }
grep -q '^ferry:x:[0-9]*:[0-9]*:.*:/var/lib/ferry:/usr/sbin/nologin$' "$work/root/etc/passwd" ||
  err "sysusers did not create user ferry (home /var/lib/ferry, nologin)"
grep -q '^ferry:x:[0-9]*:' "$work/root/etc/group" || err "sysusers did not create group ferry"

# 5. tmpfiles.d applies against that root (resolves user and group ferry).
systemd-tmpfiles --root="$work/root" --create "$src/systemd/ferry.tmpfiles" >"$work/tmpfiles.out" 2>&1 ||
  { cat "$work/tmpfiles.out"; err "systemd-tmpfiles --create failed"; }
for d in var/lib/ferry run/ferry etc/ferry; do
  [ -d "$work/root/$d" ] || { err "tmpfiles did not create /$d"; continue; }
  mode=$(stat -c %a "$work/root/$d")
  [ "$mode" = 750 ] || err "/$d has mode $mode, want 750"
done
ferry_gid=$(awk -F: '$1=="ferry"{print $3}' "$work/root/etc/group")
[ "$(stat -c %g "$work/root/etc/ferry")" = "$ferry_gid" ] || err "/etc/ferry is not group ferry"

# 6. exposure score (reported, not asserted: it moves between systemd versions).
if systemd-analyze security --help 2>/dev/null | grep -q -- '--offline'; then
  systemd-analyze security --offline=yes "$work/ferryd.service" 2>/dev/null | grep -E 'Overall exposure' || true
fi

[ "$fail" -eq 0 ] && echo "PASS: systemd unit, sysusers and tmpfiles"
exit "$fail"
