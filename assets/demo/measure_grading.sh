#!/bin/bash
# Measures the demo exam: import, crop every answer box, then `gradedesk estimate`.
ROOT=$(cd "$(dirname "$0")/../.." && pwd); OUT=${OUT:-/tmp/gd_demo}; mkdir -p $OUT; /usr/bin/python3 $ROOT/assets/demo/make_demo.py --out $OUT/scans --students ${STUDENTS:-3} --quiet
set -e
GD=$ROOT/target/debug/gradedesk
D=$OUT/data
export GRADEDESK_CONFIG_DIR=$OUT/config GRADEDESK_KEYRING=off GRADEDESK_MODEL=${MODEL:-gemini-2.5-flash}
rm -rf $D
EXAM=$($GD --data-dir $D exam create --name Demo --questions $ROOT/assets/demo/questions.json | python3 -c 'import sys,json;print(json.load(sys.stdin)["exam_id"])')
python3 - "$GD" "$D" "$EXAM" "$OUT" <<'PY'
import json, subprocess, sys
gd, d, exam = sys.argv[1:4]
layout = json.load(open(sys.argv[4] + '/scans/layout.json'))
for page in layout:
    out = subprocess.run([gd, '--data-dir', d, 'import', '--exam', exam, sys.argv[4] + '/scans/' + page['file']], capture_output=True, check=True).stdout
    sub = json.loads(out)[0]['submission_id']
    for q, (x, y, w, h) in page['boxes'].items():
        subprocess.run([gd, '--data-dir', d, 'crop', '--submission', str(sub), '--page', '1', '--question', q, '--bbox', f'{x},{y},{w},{h}'], capture_output=True, check=True)
PY
$GD --data-dir $D estimate --exam $EXAM
# Grade the batch against the fake (realistic usageMetadata) and compare.
$ROOT/target/debug/fake-gemini --port 0 --key demo-key > $OUT/fake.out &
FAKE=$!
sleep 1
URL=$(sed -n 's/listening on //p' $OUT/fake.out)
GEMINI_BASE_URL=$URL GEMINI_API_KEY=demo-key $GD --data-dir $D grade --wait --concurrency 2
$GD --data-dir $D estimate --exam $EXAM
kill $FAKE
