#!/usr/bin/env bash
# The .deb a teacher installs: its control fields and files, then `apt-get install` it,
# start the installed app headless (tests/package/app_check.sh /usr/bin), and remove it —
# also when a check fails (trap). Needs root (or sudo). Usage: deb_test.sh [FILE.deb]
set -euo pipefail
cd "$(dirname "$0")/../.."
deb=${1:-$(ls -t target/release/bundle/deb/*.deb 2>/dev/null | head -n 1)}
[ -n "$deb" ] && [ -f "$deb" ] || { echo "no .deb: run make package first" >&2; exit 1; }
deb=$(realpath "$deb")
SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
pkg=$(dpkg-deb -f "$deb" Package)
fail() { echo "deb test FAILED: $*" >&2; exit 1; }
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
  fail "$pkg is already installed here; this test installs and removes it, so remove it first"
fi

echo "== $deb"
dpkg-deb -f "$deb" Package Version Architecture Depends
version=$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "the package version is not $version"
depends=$(dpkg-deb -f "$deb" Depends)
for d in poppler-utils libheif-examples libwebkit2gtk-4.1-0 libgtk-3-0; do
  grep -qw -- "$d" <<<"$depends" || fail "Depends lacks $d: $depends"
done
files=$(dpkg-deb -c "$deb")
for f in usr/bin/gradedesk usr/bin/gradedesk-desktop; do
  grep -Eq " (\./)?$f\$" <<<"$files" || fail "the package lacks /$f"
done
grep -q 'usr/share/applications/.*\.desktop$' <<<"$files" || fail "no desktop entry"
grep -q 'usr/share/icons/hicolor/.*/apps/.*\.png$' <<<"$files" || fail "no icon"
if grep -q 'usr/bin/fake-gemini$' <<<"$files"; then echo "note: the package still carries fake-gemini (the test stand-in)"; fi

remove() {
  echo "== removing $pkg"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get purge -y -qq "$pkg" >/dev/null 2>&1 \
    || $SUDO dpkg --purge "$pkg" >/dev/null 2>&1 || true
}
trap remove EXIT

echo "== apt-get install $deb"
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "$deb" >/dev/null
dpkg-query -W -f='${Status}\n' "$pkg" | grep -q 'install ok installed' || fail "not installed"
entry=$(dpkg -L "$pkg" | grep '/usr/share/applications/.*\.desktop$' | head -n 1)
grep -q '^Exec=gradedesk' "$entry" || fail "the desktop entry does not start gradedesk: $(grep ^Exec "$entry")"
grep -q '^Icon=' "$entry" || fail "the desktop entry has no icon"
[ "$(command -v gradedesk)" = /usr/bin/gradedesk ] || fail "gradedesk is not on PATH from /usr/bin"

tests/package/app_check.sh /usr/bin

trap - EXIT
remove
if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || [ -e /usr/bin/gradedesk ]; then
  fail "$pkg is still installed after removal"
fi
echo "deb test passed: installed, started and removed $pkg $version"
