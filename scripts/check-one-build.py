#!/usr/bin/env python3
"""Fails when `cargo test` would compile a dependency a second time after `cargo build`.

Cargo compiles a crate once per feature set and profile. A test-only dependency that turns
on a feature in a shared crate (tempfile: rustix's default), or that pulls a build-time crate
into the app's graph (calamine: byteorder), makes `cargo test` compile tokio, hyper, reqwest,
zbus and tauri again: minutes on two cores, twice over in CI. The fix is a line in
Cargo.toml's unification block. Run by `make rust-test` before the tests; it costs no extra
compilation (the test binaries are built here once, and `cargo test` reuses them).
"""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def artifacts(*args):
    """(package name@version, artifact file name) for every unit cargo builds for `args`."""
    out = subprocess.run(["cargo", "--quiet", *args, "--workspace", "--message-format=json"],
                         stdout=subprocess.PIPE, check=True, text=True).stdout
    units = set()
    for line in out.splitlines():
        msg = json.loads(line)
        if msg.get("reason") != "compiler-artifact":
            continue
        if msg["manifest_path"].startswith(ROOT + os.sep) or not msg["filenames"]:
            continue  # the workspace's own crates are rebuilt for tests by design
        package = msg["package_id"].split("#")[-1]
        units.add((package, msg["filenames"][0].rsplit("/", 1)[-1]))
    return units


built = artifacts("build", "--bins")
tested = artifacts("test", "--no-run")
shared = {package for package, _ in built}
twice = sorted((package, name) for package, name in tested - built if package in shared)
if twice:
    print("cargo test compiles these dependencies again, with other features or profile than cargo build:", file=sys.stderr)
    for package, name in twice:
        print(f"  {package}: {name}", file=sys.stderr)
    print("name what the test-only dependency turns on in Cargo.toml's unification block", file=sys.stderr)
    sys.exit(1)
print(f"cargo test reuses all {len(shared)} dependencies cargo build compiled "
      f"(and adds {len(tested - built)} used by the tests only)")
