#!/usr/bin/env python3
"""Runs the vigild integration tests (tests/server/test_*.py) against a built vigild.

  tests/server/run_tests.py --vigild build/bin/vigild --vigil-test-pg build/bin/vigil_test_pg [-k PATTERN]
"""
import argparse
import os
import sys
import unittest

here = os.path.dirname(os.path.abspath(__file__))
parser = argparse.ArgumentParser()
parser.add_argument("--vigild", required=True)
parser.add_argument("--vigil-test-pg", required=True)
parser.add_argument("-k", dest="pattern", action="append", default=None)
parser.add_argument("-v", dest="verbose", action="store_true")
args = parser.parse_args()
os.environ["VIGILD"] = os.path.abspath(args.vigild)
os.environ["VIGIL_TEST_PG"] = os.path.abspath(args.vigil_test_pg)
sys.path.insert(0, here)

loader = unittest.TestLoader()
if args.pattern:
    loader.testNamePatterns = ["*%s*" % p for p in args.pattern]
suite = loader.discover(here, pattern="test_*.py", top_level_dir=here)
result = unittest.TextTestRunner(verbosity=2 if args.verbose else 1).run(suite)
sys.exit(0 if result.wasSuccessful() else 1)
