#!/usr/bin/env bash
# catch_discover_tests splits test names at ';': such a test is registered under a truncated name,
# ctest's filter matches nothing and Catch2 exits 0, so it "passes" without running. Refuse them.
set -euo pipefail
root=${1:?usage: no_semicolon_in_test_names.sh SOURCE_DIR}
if grep -rnE 'TEST_CASE\("[^"]*;[^"]*"' "$root/tests"; then
  echo "error: test names above contain ';' (ctest would never run them): use ',' instead" >&2
  exit 1
fi
