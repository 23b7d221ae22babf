#!/usr/bin/env bash
# Install the system packages the test suite needs: a headless Chromium and its WebDriver,
# from the distribution's own packages (tests/test_browser.py drives them).
# Idempotent and quiet when they are already there; needs root (or sudo) and apt-get.
# If installation is impossible the browser tests skip with the reason printed here.
set -u
if command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-deps: no apt-get; install chromium and chromium-driver by hand" >&2
    exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "install-test-deps: not root and no sudo; browser tests will skip" >&2
        exit 0
    fi
fi
export DEBIAN_FRONTEND=noninteractive
echo "install-test-deps: installing chromium and chromium-driver with apt-get" >&2
$SUDO apt-get update -qq >/dev/null 2>&1 || true
if ! $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver \
        >/dev/null 2>&1; then
    echo "install-test-deps: apt-get install chromium chromium-driver failed; browser tests will skip" >&2
    exit 0
fi
# Chinese glyphs for the screenshots; the tests read the DOM, so they pass without it.
$SUDO apt-get install -y -qq --no-install-recommends fonts-noto-cjk >/dev/null 2>&1 || true
exit 0
