#!/usr/bin/env bash
# Installs every Debian 12 package that building, testing, running the demo and packaging certsync
# need. Idempotent: installs only what is missing. Runs apt-get as root, through sudo otherwise.
set -euo pipefail

packages=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  clang libclang-rt-14-dev clang-format clang-tidy
  # Qt 6.4 (Widgets, Network, Sql, Test, HttpServer for the tenant simulator); on Debian 12 the
  # HttpServer CMake package needs the WebSockets one to load.
  qt6-base-dev qt6-base-dev-tools qt6-httpserver-dev qt6-websockets-dev libqt6sql6-sqlite
  # SQLite's C API, on the connection Qt's SQLite driver (built against this library) opened
  libsqlite3-dev
  qt6-tools-dev qt6-tools-dev-tools qt6-l10n-tools qt6-svg-dev qt6-qpa-plugins
  qtkeychain-qt6-dev
  # a headless Secret Service for the keychain round-trip test (dbus-run-session + gnome-keyring)
  dbus-daemon gnome-keyring
  # crypto and directory
  libssl-dev openssl libldap-dev ldap-utils
  # real servers for the integration tests and the demo; Debian splits what `samba-tool domain
  # provision` needs for an AD DC out of the samba package
  samba samba-ad-provision samba-dsdb-modules samba-vfs-modules winbind slapd
  # SASL GSSAPI (Kerberos) binds to Active Directory; kinit/klist for the test that gets a ticket
  # from the Samba DC's KDC
  libsasl2-modules-gssapi-mit krb5-user
  # screenshots and GUI tests on a virtual display; packaging: icons rendered from the SVG, the man
  # page from --help, and the package checks (dpkg-shlibdeps, desktop entry, AppStream metainfo)
  xvfb xauth appstream dpkg-dev file librsvg2-bin help2man desktop-file-utils
  # tests only: Microsoft's own client library (MSAL for Python) acquires tokens from the tenant
  # simulator with a client secret and a certificate assertion, proving the simulator accepts what
  # a client that is not certsync sends (tests/integration/tst_msal_client.py)
  python3-msal
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
  as_root=()
elif command -v sudo >/dev/null 2>&1; then
  as_root=(sudo)
else
  echo "install-deps: these Debian packages are missing and I am neither root nor have sudo:" >&2
  echo "  ${missing[*]}" >&2
  echo "install-deps: run as root: apt-get install ${missing[*]}" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Package lists on a fresh machine may be stale or empty.
"${as_root[@]}" apt-get update -q
# The Debian slapd/samba packages try to start system services; certsync's tests start their own
# instances in temporary folders, so keep the system ones from starting at install time.
policy=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${as_root[@]}" tee "$policy" >/dev/null
  "${as_root[@]}" chmod 755 "$policy"
  created_policy=1
fi
trap '[ $created_policy -eq 1 ] && "${as_root[@]}" rm -f "$policy"' EXIT
"${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
echo "install-deps: done"
