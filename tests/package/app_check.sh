#!/usr/bin/env bash
# Starts an installed (or release-built) GradeDesk headless and checks it works as a teacher
# would use it: the CLI answers `status`, and `gradedesk` alone opens the window in
# production mode (assets from the binary, no web inspector), whose page loads its first
# snapshot through the capability. Usage: tests/package/app_check.sh BIN_DIR
# (BIN_DIR holds `gradedesk` and `gradedesk-desktop`: /usr/bin, or target/release).
set -euo pipefail
bindir=${1:?usage: app_check.sh BIN_DIR}
cli=$bindir/gradedesk
work=$(mktemp -d /tmp/gradedesk-app-check.XXXXXX)
app_pid=
cleanup() {
  if [ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null; then kill "$app_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
fail() { echo "app check FAILED: $*" >&2; if [ -d "$work/data/logs" ]; then tail -n 40 "$work"/data/logs/gradedesk.*.log >&2 || true; fi; exit 1; }

# A teacher's environment, not the developer's: no key, no test stand-in, no e2e switch.
export GRADEDESK_CONFIG_DIR=$work/config GRADEDESK_KEYRING=off
unset GEMINI_API_KEY GEMINI_BASE_URL GRADEDESK_E2E GRADEDESK_DATA_DIR || true
data=$work/data

echo "== $cli --version"
"$cli" --version | grep -q '^gradedesk ' || fail "no version from $cli"

echo "== the CLI answers status"
cat > "$work/questions.json" <<'JSON'
[{"label": "Q1", "prompt": "State Newton's second law.", "max_points": 2}]
JSON
"$cli" --data-dir "$data" exam create --name "Package check" --questions "$work/questions.json" >/dev/null \
  || fail "exam create"
"$cli" --data-dir "$data" status | grep -q '^queued 0  running 0' || fail "status"
"$cli" --data-dir "$data" status --json | grep -q '"counts"' || fail "status --json"
mode=$(stat -c %a "$data")
[ "$mode" = 700 ] || fail "the data dir is $mode, not 700"

echo "== gradedesk opens the window under Xvfb"
export GRADEDESK_LOG=gradedesk=info,warn
xvfb-run -a -s "-screen 0 1280x800x24" bash -c '
  "$0" --data-dir "$1" & app=$!
  for _ in $(seq 1 120); do
    if xwininfo -root -tree 2>/dev/null | grep -q "\"GradeDesk\""; then
      if grep -qs "the page loaded its first snapshot" "$1"/logs/gradedesk.*.log; then
        echo "window up, page loaded"; kill $app; wait $app 2>/dev/null; exit 0
      fi
    fi
    if ! kill -0 $app 2>/dev/null; then echo "the app exited" >&2; exit 1; fi
    sleep 0.5
  done
  echo "no window with its page within 60 s" >&2; kill $app; exit 1
' "$cli" "$data" || fail "the window did not come up"

log=$(cat "$data"/logs/gradedesk.*.log)
grep -q 'production=true' <<<"$log" || fail "not a production build (custom-protocol off)"
grep -q 'devtools=false' <<<"$log" || fail "devtools are on"
grep -q 'page loaded.*url=tauri://localhost' <<<"$log" || fail "the page was not served from the app's assets"
echo "app check passed ($bindir)"
