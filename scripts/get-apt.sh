#!/bin/sh
# Make sure a Debian/Ubuntu package a test needs is installed: as root, or with password-less
# sudo, through apt, quietly; elsewhere say so and go on (the tests that need it then skip with
# the reason). Usage: get-apt.sh PACKAGE PROGRAM WHAT-SKIPS
#   get-apt.sh chromium chromium "the browser tests"
#   get-apt.sh graphviz dot "the tests that draw a graph"
pkg=$1 prog=$2 what=$3
command -v "$prog" >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "get-apt: no apt-get here to install $pkg; $what will skip"; exit 0
fi
if [ "$(id -u)" = 0 ]; then sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"
else echo "get-apt: not root; \`sudo apt-get install $pkg\` to run $what"; exit 0
fi
echo "installing $pkg (for $what) ..."
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -qq "$pkg" >/dev/null 2>&1 ||
    { $sudo apt-get update -qq >/dev/null 2>&1 &&
      $sudo apt-get install -y -qq "$pkg" >/dev/null 2>&1; } ||
    echo "get-apt: apt could not install $pkg; $what will skip"
