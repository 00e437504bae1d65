#!/usr/bin/env bash
# What `npm test` needs beyond npm packages: a Chromium for the browser tests (playwright-core
# drives the system's browser; it downloads none). Runs as `pretest` and from .ci/run: finds
# one (CHROMIUM_PATH, Debian's chromium, Chrome or Chromium on macOS), or installs Debian's
# `chromium` and `chromium-l10n` (its languages, for native date inputs in French) when it can
# (root, or sudo without a password), or says what to install and fails. The print tests render
# PDFs to images with poppler's `pdftoppm` (Debian's `poppler-utils`), installed the same way.
# With --faketime it also installs libfaketime, which `npm run test:at` needs. The pooler tests
# (test/ops/pooler.test.ts, `TEST_POOLER=1 npm test`) run Debian's `pgbouncer`, installed the same way.
set -euo pipefail

want_faketime=false
[ "${1:-}" = "--faketime" ] && want_faketime=true

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo --non-interactive "$@"; fi
}
can_apt() {
  command -v apt-get >/dev/null 2>&1 && { [ "$(id -u)" -eq 0 ] || sudo --non-interactive true 2>/dev/null; }
}

packages=()
have_browser=false
for candidate in "${CHROMIUM_PATH:-}" /usr/bin/chromium /usr/bin/chromium-browser \
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome" "/Applications/Chromium.app/Contents/MacOS/Chromium"; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then have_browser=true; break; fi
done
if ! $have_browser; then
  packages+=(chromium chromium-l10n)
elif [ -x /usr/bin/chromium ] && [ ! -f /usr/lib/chromium/locales/fr.pak ] && command -v apt-get >/dev/null 2>&1; then
  packages+=(chromium-l10n)
fi
if ! command -v pdftoppm >/dev/null 2>&1; then packages+=(poppler-utils); fi
if [ ! -x /usr/sbin/pgbouncer ]; then packages+=(pgbouncer); fi
if $want_faketime && ! command -v faketime >/dev/null 2>&1; then packages+=(faketime); fi

[ ${#packages[@]} -eq 0 ] && exit 0
if can_apt; then
  echo "== installing ${packages[*]} (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq "${packages[@]}" >/dev/null
  exit 0
fi
if ! $have_browser; then
  echo "The browser tests need Chromium, and it could not be installed here (no apt-get as root or sudo)." >&2
  echo "Install it (Debian/Ubuntu: apt-get install chromium chromium-l10n; macOS: Google Chrome) or set CHROMIUM_PATH." >&2
  exit 1
fi
echo "note: ${packages[*]} not installed (no apt-get as root or sudo); the tests run without it" >&2
