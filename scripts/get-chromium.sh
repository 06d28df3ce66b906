#!/bin/sh
# Make sure Debian's or Ubuntu's chromium is installed, for tests/report/test_browser.py: as
# root, or with password-less sudo, through apt, quietly; elsewhere say so and go on (the test
# then skips with the reason). Usage: get-chromium.sh
[ -x /usr/bin/chromium ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "get-chromium: no apt-get here; the browser test will skip"; exit 0
fi
if [ "$(id -u)" = 0 ]; then sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"
else echo "get-chromium: not root; \`sudo apt-get install chromium\` to run the browser test"; exit 0
fi
echo "installing chromium (for the browser test of report.html) ..."
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -qq chromium >/dev/null 2>&1 ||
    { $sudo apt-get update -qq >/dev/null 2>&1 &&
      $sudo apt-get install -y -qq chromium >/dev/null 2>&1; } ||
    echo "get-chromium: apt could not install chromium; the browser test will skip"
