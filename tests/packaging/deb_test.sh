#!/usr/bin/env bash
# Builds the .deb with cpack from the build directory (into a scratch
# directory, timed) and inspects it: file list (dpkg-deb -c), control data
# (dpkg-deb -I: Depends from dpkg-shlibdeps, conffiles, maintainer scripts),
# then runs `ferryd --help` and `--check-config` from the extracted tree.
# Also checks that packaging/container/Containerfile only references files
# that exist (it cannot be built here: no container engine).
# Usage: deb_test.sh BUILD_DIR SOURCE_DIR WITH_FERRYCTL(0|1)
set -euo pipefail
build=$1 src=$2 with_ctl=$3
work=$(mktemp -d /tmp/ferry-deb-test.XXXXXX)
trap 'rm -rf "$work"' EXIT
fail=0
err() { echo "FAIL: $*"; fail=1; }

start=$(date +%s%N)
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 ||
  { cat "$work/cpack.log"; echo "FAIL: cpack"; exit 1; }
end=$(date +%s%N)
echo "cpack took $(( (end - start) / 1000000 )) ms"
debs=("$work"/out/ferry_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || { ls -la "$work/out"; echo "FAIL: no single ferry_*.deb"; exit 1; }
deb=${debs[0]}
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

dpkg-deb -c "$deb" | awk '{print $NF}' | sed 's#^\./#/#' >"$work/files"
expect=(/usr/bin/ferryd /lib/systemd/system/ferryd.service /usr/lib/sysusers.d/ferry.conf
        /usr/lib/tmpfiles.d/ferry.conf /etc/ferry/ferry.yaml /usr/share/doc/ferry/examples/ferry.yaml
        /usr/share/doc/ferry/operations.md /usr/share/doc/ferry/metrics.md /usr/share/doc/ferry/config.md
        /usr/share/doc/ferry/dr-runbook.md /usr/share/doc/ferry/prometheus/ferry-rules.yml
        /usr/share/doc/ferry/prometheus/ferry-dashboard.json)
[ "$with_ctl" = 1 ] && expect+=(/usr/bin/ferryctl)
for f in "${expect[@]}"; do grep -qxF "$f" "$work/files" || err "package lacks $f"; done
dpkg-deb -c "$deb" | awk '$NF ~ /^\.\/usr\/bin\// && $1 !~ /x/ {print "FAIL: not executable: " $NF; bad=1} END {exit bad}' ||
  fail=1

dpkg-deb -I "$deb" >"$work/info"
cat "$work/info"
grep -qE '^ Package: ferry$' "$work/info" || err "package name"
grep -qE '^ Maintainer: .+' "$work/info" || err "no maintainer"
grep -qE '^ Depends: .*libc6' "$work/info" || err "Depends lacks libc6 (dpkg-shlibdeps did not run?)"
grep -qE '^ Depends: .*libssl3' "$work/info" || err "Depends lacks libssl3"
mkdir -p "$work/control"
dpkg-deb -e "$deb" "$work/control"
grep -qxF /etc/ferry/ferry.yaml "$work/control/conffiles" 2>/dev/null || err "/etc/ferry/ferry.yaml is not a conffile"
for s in postinst prerm postrm; do
  [ -x "$work/control/$s" ] || err "$s missing or not executable"
  sh -n "$work/control/$s" || err "$s has a syntax error"
done
grep -q 'systemd-sysusers' "$work/control/postinst" || err "postinst does not run systemd-sysusers"
grep -q 'systemd-tmpfiles' "$work/control/postinst" || err "postinst does not run systemd-tmpfiles"

dpkg-deb -x "$deb" "$work/root"
if "$work/root/usr/bin/ferryd" --help >"$work/help" 2>&1; then
  grep -q -- '--config' "$work/help" || err "ferryd --help does not mention --config"
else
  cat "$work/help"; err "ferryd --help from the package failed"
fi
if [ "$with_ctl" = 1 ]; then
  "$work/root/usr/bin/ferryctl" --help >/dev/null 2>&1 || err "ferryctl --help from the package failed"
fi
"$work/root/usr/bin/ferryd" --config "$work/root/etc/ferry/ferry.yaml" --check-config >"$work/check" 2>&1 ||
  { cat "$work/check"; err "the packaged /etc/ferry/ferry.yaml does not pass --check-config"; }
cmp -s "$work/root/lib/systemd/system/ferryd.service" "$src/systemd/ferryd.service" || err "packaged unit differs"

# Containerfile: every COPY source must be a file the package build makes,
# the ENTRYPOINT binary and config must be in the package.
cf="$src/packaging/container/Containerfile"
grep -qE '^FROM debian:12-slim' "$cf" || err "Containerfile is not based on debian:12-slim"
grep -qE '^EXPOSE 9464' "$cf" || err "Containerfile does not expose 9464"
grep -qE '^USER [1-9][0-9]*' "$cf" || err "Containerfile does not run as a numeric non-root user"
while read -r _ srcpat _; do
  # shellcheck disable=SC2086
  compgen -G "$work/out/$srcpat" >/dev/null || err "Containerfile copies $srcpat, which the package build does not make"
done < <(grep -E '^COPY ' "$cf")
entry=$(sed -n 's/^ENTRYPOINT \[\(.*\)\]/\1/p' "$cf" | tr -d '" ' | tr ',' ' ')
read -r -a words <<<"$entry"
[ "${words[0]:-}" = /usr/bin/ferryd ] && grep -qxF /usr/bin/ferryd "$work/files" || err "ENTRYPOINT is not the packaged ferryd"
[ "${words[1]:-}" = --config ] && grep -qxF "${words[2]:-none}" "$work/files" || err "ENTRYPOINT config is not a packaged file"

[ "$fail" -eq 0 ] && echo "PASS: .deb and Containerfile"
exit "$fail"
