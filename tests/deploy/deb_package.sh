#!/usr/bin/env bash
# Builds the Linux packages with CPack (DEB per component + one TGZ) from a finished build,
# checks what they declare and contain, unpacks both .debs into a temporary root
# (dpkg -x: nothing touches the machine's package database) and runs what a user runs:
# `idl-console --version`, an offscreen start of the console that must stay up, and
# `--version` of every server binary, all from the unpacked tree.
#   usage: deb_package.sh BUILD_DIR
# Exit 0 pass, 1 fail, 77 skip (no cpack/dpkg-deb, or the console was not built).
set -uo pipefail
build=${1:?usage: deb_package.sh BUILD_DIR}
for tool in cpack dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed"; exit 77; }
done
[ -x "$build/bin/idl-console" ] || { echo "SKIP: idl-console is not built in $build"; exit 77; }
version=$(sed -n 's/^CPACK_PACKAGE_VERSION:.*=//p; s/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt" | head -n1)
[ -n "$version" ] || version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build/CPackConfig.cmake")

passed=0
failed=0
ok() { echo "ok   $*"; passed=$((passed + 1)); }
bad() { echo "FAIL $*"; failed=$((failed + 1)); }
check() { # description command...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

work=$(mktemp -d /tmp/idl-deploy-deb-XXXXXX)
console_pid=
cleanup() {
  [ -n "$console_pid" ] && kill -KILL "$console_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

echo "== cpack -G DEB;TGZ (version $version)"
if ! (cd "$build" && cpack -G "DEB;TGZ" -B "$work/out" --config CPackConfig.cmake) >"$work/cpack.log" 2>&1; then
  tail -40 "$work/cpack.log"
  bad "cpack builds the DEB and TGZ packages"
  echo "$passed passed, $failed failed"
  exit 1
fi
ok "cpack builds the DEB and TGZ packages"

console_deb=$(ls "$work"/out/instant-dev-logs-console_*.deb 2>/dev/null | head -n1)
server_deb=$(ls "$work"/out/instant-dev-logs-server_*.deb 2>/dev/null | head -n1)
tgz=$(ls "$work"/out/instant-dev-logs-*.tar.gz 2>/dev/null | head -n1)
check "console package instant-dev-logs-console_${version}_*.deb" test -f "$console_deb"
check "server package instant-dev-logs-server_${version}_*.deb" test -f "$server_deb"
check "archive instant-dev-logs-${version}-*.tar.gz" test -f "$tgz"
[ -f "$console_deb" ] && [ -f "$server_deb" ] || { echo "$passed passed, $failed failed"; exit 1; }

# ---- control fields -----------------------------------------------------------------------
field() { dpkg-deb -f "$1" "$2"; }
check "console: Package field" test "$(field "$console_deb" Package)" = instant-dev-logs-console
check "console: Version $version" test "$(field "$console_deb" Version)" = "$version"
deps=$(field "$console_deb" Depends)
echo "     console Depends: $deps"
for d in libqt6widgets6 libqt6charts6 qt6-qpa-plugins libqt6svg6 libc6; do
  check "console depends on $d" grep -q "$d" <<<"$deps"
done
sdeps=$(field "$server_deb" Depends)
echo "     server Depends: $sdeps"
for d in librdkafka1 libpq5 libqt6websockets6; do
  check "server depends on $d" grep -q "$d" <<<"$sdeps"
done
check "server recommends PostgreSQL and Java (idl-stack)" grep -q "postgresql-15.*openjdk-17" <<<"$(field "$server_deb" Recommends)"

# ---- contents -----------------------------------------------------------------------------
dpkg-deb -c "$console_deb" | awk '{print $6}' >"$work/console.list"
dpkg-deb -c "$server_deb" | awk '{print $6}' >"$work/server.list"
for f in ./usr/bin/idl-console \
         ./usr/share/applications/instant-dev-logs-console.desktop \
         ./usr/share/icons/hicolor/scalable/apps/instant-dev-logs.svg \
         ./usr/share/icons/hicolor/256x256/apps/instant-dev-logs.png \
         ./usr/share/icons/hicolor/48x48/apps/instant-dev-logs.png \
         ./usr/share/metainfo/org.instantdevlogs.Console.metainfo.xml; do
  check "console package has $f" grep -qx "$f" "$work/console.list"
done
for b in idl-collector idl-processor idl-writer idl-gateway idl-admin idl-stack; do
  check "server package has /usr/bin/$b" grep -qx "./usr/bin/$b" "$work/server.list"
done
check "server package ships the Kafka pom for idl-stack" grep -qx "./usr/share/instant-dev-logs/kafka/pom.xml" "$work/server.list"
check "console package carries no server binaries" bash -c "! grep -q 'idl-collector' '$work/console.list'"
check "server package carries no console" bash -c "! grep -q 'idl-console' '$work/server.list'"
check "no test or benchmark executables are packaged" bash -c "! grep -qE '/(test_|bench_)' '$work/console.list' '$work/server.list'"

tar tzf "$tgz" >"$work/tgz.list"
for f in bin/idl-console bin/idl-collector share/applications/instant-dev-logs-console.desktop \
         share/metainfo/org.instantdevlogs.Console.metainfo.xml; do
  check "archive has $f" grep -q "/$f\$" "$work/tgz.list"
done

# ---- unpack and run ---------------------------------------------------------------------------
root="$work/root"
dpkg -x "$console_deb" "$root" && dpkg -x "$server_deb" "$root"
check "both packages unpack (dpkg -x)" test -x "$root/usr/bin/idl-console"
if command -v file >/dev/null; then
  check "idl-console is stripped" bash -c "file -L '$root/usr/bin/idl-console' | grep -q ', stripped'"
fi
missing=$(ldd "$root/usr/bin/idl-console" | grep 'not found' || true)
check "idl-console finds every shared library ($missing)" test -z "$missing"

out=$("$root/usr/bin/idl-console" --version 2>&1)
check "idl-console --version prints $version ($out)" grep -q "^idl-console $version" <<<"$out"
help=$(QT_QPA_PLATFORM=offscreen "$root/usr/bin/idl-console" --help 2>&1)
check "idl-console --help lists its options" grep -q -- "--profile" <<<"$help"
for b in idl-collector idl-processor idl-writer idl-gateway idl-admin idl-stack; do
  out=$("$root/usr/bin/$b" --version 2>&1)
  check "$b --version ($out)" grep -q "$version" <<<"$out"
done

# Offscreen start of the real GUI from the unpacked tree, with a private HOME (settings),
# session-only secrets and no cluster: the main window must come up and stay up.
mkdir -p "$work/home"
HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config" XDG_RUNTIME_DIR="$work/home" \
  QT_QPA_PLATFORM=offscreen "$root/usr/bin/idl-console" --secrets session \
  >"$work/console.log" 2>&1 &
console_pid=$!
sleep 5
if kill -0 "$console_pid" 2>/dev/null; then
  ok "idl-console starts offscreen and keeps running"
  kill -TERM "$console_pid"
  wait "$console_pid" 2>/dev/null
  console_pid=
else
  wait "$console_pid"
  rc=$?
  console_pid=
  bad "idl-console starts offscreen and keeps running (exited with $rc)"
  tail -20 "$work/console.log"
fi
check "no Qt plugin errors at start" bash -c "! grep -qiE 'could not (load|find) the qt platform plugin|cannot load library' '$work/console.log'"

desktop="$root/usr/share/applications/instant-dev-logs-console.desktop"
exe=$(sed -n 's/^Exec=\([^ ]*\).*/\1/p' "$desktop")
check "desktop entry Exec ($exe) is in the package" test -x "$root/usr/bin/$exe"
icon=$(sed -n 's/^Icon=//p' "$desktop")
check "desktop entry Icon ($icon) is in the package" test -f "$root/usr/share/icons/hicolor/scalable/apps/$icon.svg"
if command -v desktop-file-validate >/dev/null; then
  check "installed desktop entry validates" desktop-file-validate "$desktop"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
