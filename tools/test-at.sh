#!/usr/bin/env bash
# Runs the jest suites as if the clock read another instant: `npm run test:at -- <instant>
# [jest arguments]`, e.g. `npm run test:at -- '2027-03-28 00:58:00 UTC' test/figures`.
# libfaketime (Debian's `faketime`) shifts every process of the run (jest, the embedded
# PostgreSQL, the api and worker children, Chromium) by the same offset from the real clock,
# so they agree with each other and time still passes. (`faketime '@…'` would restart the
# clock at that instant in each process as it starts: children would lag their parents.)
set -euo pipefail
if [ $# -lt 1 ]; then
  echo "usage: npm run test:at -- <instant, as date(1) reads it> [jest arguments]" >&2
  exit 2
fi
if ! command -v faketime >/dev/null 2>&1; then
  echo "test:at needs libfaketime: apt-get install faketime (Debian), brew install libfaketime (macOS)" >&2
  exit 2
fi
target="$(date -u -d "$1" +%s)"
shift
offset=$((target - $(date -u +%s)))
echo "== jest at $(date -u -d "@$target" '+%Y-%m-%d %H:%M:%S UTC') ($(TZ=Europe/Paris date -d "@$target" '+%a %H:%M %Z in Paris'))"
export NODE_OPTIONS='--experimental-vm-modules --disable-warning=ExperimentalWarning'
sign='+'
[ "$offset" -lt 0 ] && sign=''
exec faketime -f "${sign}${offset}s" npx jest "$@"
