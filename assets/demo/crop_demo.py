#!/usr/bin/python3
"""Boxes the first demo student's answers through the CLI, using the generator's layout.json,
so `make run` opens on answers that are already queued for grading.

usage: crop_demo.py GRADEDESK_BINARY DEMO_DIR
"""
import json
import subprocess
import sys
from pathlib import Path

binary, demo = sys.argv[1], Path(sys.argv[2])
layout = {entry["file"]: entry for entry in json.loads((demo / "scans" / "layout.json").read_text())}
imported = json.loads((demo / "imported.json").read_text())
first = imported[0]
boxes = layout[first["file"]]["boxes"]
for label, (x, y, w, h) in boxes.items():
    subprocess.run(
        [binary, "--data-dir", str(demo / "data"), "crop", "--submission", str(first["submission_id"]),
         "--page", "1", "--question", label, "--bbox", f"{x},{y},{w},{h}"],
        check=True, stdout=subprocess.DEVNULL,
    )
