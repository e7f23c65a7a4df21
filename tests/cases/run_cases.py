#!/usr/bin/env python3
"""Data-driven cases: every tests/cases/*.jsonl line is a `vigil eval` case with an `expect`
field ("attack", "clean" or "error"). Feeds them all to `vigil eval` and checks each verdict.
The html cases run twice, the second time with --html-in-pieces (each page's starts that end in
or just after an input, checked as a page still being written, as the agent checks a page a
program writes in pieces): the verdicts must not change.

usage: run_cases.py VIGIL_BINARY CASES_DIR
"""
import glob
import json
import os
import subprocess
import sys


def main():
    vigil, folder = sys.argv[1], sys.argv[2]
    failures = 0
    total = 0
    for path in sorted(glob.glob(os.path.join(folder, "*.jsonl"))):
        lines = [l for l in open(path, encoding="utf-8", errors="surrogateescape").read().split("\n") if l.strip()]
        expects = []
        for l in lines:
            try:
                case = json.loads(l)
            except ValueError:
                case = None
            # A line that is not a JSON object is deliberately malformed: it must get an error.
            expects.append(case.get("expect") if isinstance(case, dict) else "error")
        data = ("\n".join(lines) + "\n").encode("utf-8", errors="surrogateescape")
        runs = [["eval"]]
        if os.path.basename(path) == "html.jsonl":
            runs.append(["eval", "--html-in-pieces"])
        for args in runs:
            out = subprocess.run([vigil] + args, input=data, capture_output=True, timeout=120)
            if out.returncode != 0:
                print(f"{path}: vigil {' '.join(args)} exited {out.returncode}: {out.stderr.decode()[:500]}")
                failures += 1
                continue
            verdicts = [json.loads(l) for l in out.stdout.decode().splitlines() if l.strip()]
            if len(verdicts) != len(lines):
                print(f"{path}: {len(lines)} cases but {len(verdicts)} verdicts")
                failures += 1
                continue
            for line, expect, v in zip(lines, expects, verdicts):
                total += 1
                got = "error" if "error" in v else v.get("verdict")
                if expect is not None and got != expect:
                    failures += 1
                    print(f"{os.path.basename(path)} ({' '.join(args)}): expected {expect}, got {got}: {line[:300]}")
    print(f"{total} cases, {failures} failures")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
