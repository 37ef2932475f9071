#!/usr/bin/env bash
# The release binary as `make run` and the .deb ship it: production mode, no end-to-end
# hooks compiled in, and it starts and answers (tests/package/app_check.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=target/release
for b in gradedesk gradedesk-desktop; do
  [ -x "$bin/$b" ] || { echo "no $bin/$b: run make package (or make release) first" >&2; exit 1; }
done
echo "== the release window has no end-to-end hooks"
if grep -aq 'e2e_probe_events\|e2e_drop_paths' "$bin/gradedesk-desktop"; then
  echo "release test FAILED: the e2e hooks are compiled into the release binary" >&2; exit 1
fi
tests/package/app_check.sh "$bin"
