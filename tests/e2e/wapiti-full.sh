#!/usr/bin/env bash
# The full wapiti run against the demo shop under vigil run (monitor, then block mode), loopback
# only. Not run in CI (it takes minutes to tens of minutes); CI runs the reduced form
# (ctest -R e2e.wapiti). BUILD names the build directory (default build/).
set -euo pipefail
cd "$(dirname "$0")/../.."
exec python3 tests/e2e/scanners_test.py --build "${BUILD:-build}" wapiti --full
