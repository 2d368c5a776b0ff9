#!/usr/bin/env bash
# The `packaging` test: builds the .deb from a built tree, unpacks it into a temporary root with
# dpkg -x, and checks what a user of the package gets. Fails on the first thing that is wrong.
# Usage: check-package.sh BUILD_DIR SOURCE_DIR
set -euo pipefail

build=${1:?build directory}
source=${2:?source directory}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() {
    echo "check-package: $*" >&2
    exit 1
}

for tool in cpack dpkg-deb dpkg-shlibdeps desktop-file-validate appstreamcli; do
    command -v "$tool" >/dev/null || fail "$tool is missing (run packaging/install-deps.sh)"
done

# Build the package into our own folder, so that parallel runs and the build's own `package`
# target never share CPack's staging area.
cpack --config "$build/CPackConfig.cmake" -G DEB -B "$work/out" >"$work/cpack.log" 2>&1 \
    || { cat "$work/cpack.log" >&2; fail "cpack failed"; }
debs=("$work"/out/certsync_*.deb)
if [ ${#debs[@]} -ne 1 ] || [ ! -f "${debs[0]}" ]; then
    fail "expected one certsync_*.deb, found: ${debs[*]}"
fi
deb=${debs[0]}
echo "package: $(basename "$deb"), $(stat -c %s "$deb") bytes"

# Control data: name, dependencies computed by dpkg-shlibdeps plus the SQLite driver.
control=$(dpkg-deb -f "$deb")
echo "$control" | grep -q '^Package: certsync$' || fail "control has no 'Package: certsync'"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
for lib in libqt6widgets6 libqt6network6 libqt6sql6 libssl3 libldap; do
    [[ $depends == *"$lib"* ]] || fail "Depends lacks $lib (dpkg-shlibdeps not run?): $depends"
done
[[ $depends == *libqt6sql6-sqlite* ]] || fail "Depends lacks libqt6sql6-sqlite: $depends"

# Contents: the product, and nothing of the test tree.
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for path in ./usr/bin/certsync ./usr/share/applications/certsync.desktop \
    ./usr/share/metainfo/invalid.example.certsync.metainfo.xml \
    ./usr/share/icons/hicolor/scalable/apps/certsync.svg \
    ./usr/share/icons/hicolor/16x16/apps/certsync.png ./usr/share/icons/hicolor/256x256/apps/certsync.png \
    ./usr/share/man/man1/certsync.1.gz ./usr/share/doc/certsync/examples/certsync-diff.service \
    ./usr/share/doc/certsync/examples/certsync-diff.timer; do
    grep -qxF "$path" <<<"$contents" || fail "the package lacks $path"
done
if grep -Ei 'tenantsim|seed|/tests?/' <<<"$contents"; then
    fail "the package carries test-tree files (above)"
fi

# Unpack as an admin would install it, and run what was installed.
root=$work/root
dpkg -x "$deb" "$root"
certsync=$root/usr/bin/certsync
version=$("$certsync" --version) || fail "installed certsync --version failed"
echo "$version"
expected_version=$(sed -n 's/^Version: //p' <<<"$control")
grep -qx "certsync $expected_version" <<<"$version" || fail "--version does not say certsync $expected_version"
for component in 'Qt 6\.' 'OpenSSL 3\.' 'OpenLDAP 2\.'; do
    grep -q "^$component" <<<"$version" || fail "--version names no $component"
done

fixtures=$source/tests/fixtures
inspect=$("$certsync" inspect "$fixtures/outlook-gal.p7b" --trust "$fixtures/outlook-gal-root.pem") \
    || fail "installed certsync inspect failed"
echo "$inspect" | head -n 5
grep -q '^  value 1: pkcs7, .*signed' <<<"$inspect" || fail "inspect did not read the fixture as signed PKCS#7"
grep -q "(the user's)" <<<"$inspect" || fail "inspect found no user's certificate in the fixture"
grep -q '^    chain: *trusted$' <<<"$inspect" || fail "inspect did not build a trusted chain to --trust"
grep -q '^    status: ' <<<"$inspect" || fail "inspect printed no status"

# The demo lives in the build tree; the installed binary must say so, not reach for it.
set +e
demo_err=$(QT_QPA_PLATFORM=offscreen "$certsync" --demo 2>&1 >/dev/null)
demo_status=$?
set -e
[ $demo_status -eq 2 ] || fail "installed certsync --demo exited $demo_status, expected 2: $demo_err"
grep -q 'not part of this installation' <<<"$demo_err" || fail "--demo gave no clear message: $demo_err"

# Desktop integration files validate.
desktop-file-validate "$root/usr/share/applications/certsync.desktop" || fail "desktop-file-validate failed"
appstreamcli validate --no-net "$root/usr/share/metainfo/invalid.example.certsync.metainfo.xml" \
    || fail "appstreamcli validate failed"
gzip -t "$root/usr/share/man/man1/certsync.1.gz" || fail "the man page is not valid gzip"
man_text=$(zcat "$root/usr/share/man/man1/certsync.1.gz")
for section in '^\.SH SYNOPSIS' '^\.SH "EXIT STATUS"' '^\.SS "certsync publish"' 'allow\\-deletions'; do
    grep -q "$section" <<<"$man_text" || fail "the man page lacks $section"
done
echo "check-package: all checks passed"
