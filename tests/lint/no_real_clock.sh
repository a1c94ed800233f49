#!/usr/bin/env bash
# Only app/ may read the real clock: everything else takes a vigie::Clock so tests control time.
set -euo pipefail
root=${1:?source dir}
cd "$root"
hits=$(grep -rnE 'system_clock::now|steady_clock::now|high_resolution_clock::now|[^_]time\(nullptr\)|gettimeofday|clock_gettime' \
  --include='*.cpp' --include='*.h' core bus config store rules net collectors actions chat 2>/dev/null || true)
if [ -n "$hits" ]; then
  echo "real clock read outside app/ (take a vigie::Clock instead):"
  echo "$hits"
  exit 1
fi
echo "ok: no real clock reads outside app/"
