#!/usr/bin/env bash
# Install the system packages the test suite needs, from the distribution's own packages:
#   redis-server                 tests/test_distributed.py (a throw-away server on loopback)
#   chromium, chromium-driver    tests/test_browser.py (headless)
#   catdoc                       Word 97-2003 and WPS attachments (pipeline/extract/attachments.py)
# Idempotent and quick (a few `command -v`) when everything is there; needs root (or sudo)
# and apt-get. If Chromium cannot be installed the browser tests skip with the reason.
set -u

# "command:package" pairs: the package is installed when the command is missing.
NEEDED=(
    "redis-server:redis-server"
    "chromium:chromium"
    "chromedriver:chromium-driver"
    "catdoc:catdoc"
)

missing=()
for pair in "${NEEDED[@]}"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: no apt-get; install ${missing[*]} by hand" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install-test-deps: not root and no sudo; cannot install ${missing[*]}" >&2
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-test-deps: installing ${missing[*]} with apt-get" >&2
$SUDO apt-get update -qq >/dev/null 2>&1 || true
if ! $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 2>&1; then
    # One package that cannot be had must not keep the others out.
    for package in "${missing[@]}"; do
        $SUDO apt-get install -y -qq --no-install-recommends "$package" >/dev/null 2>&1 \
            || echo "install-test-deps: apt-get install $package failed" >&2
    done
fi
# Chinese glyphs for the screenshots; the tests read the DOM, so they pass without it.
case " ${missing[*]} " in
    *" chromium "*)
        $SUDO apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null 2>&1 || true ;;
esac
exit 0
