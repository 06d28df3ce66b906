#!/bin/sh
# Make sure Graphviz's dot program is there (Debian's or Ubuntu's graphviz package), for
# shallowlab.graph and `shallowlab run backprop`: as root, or with password-less sudo, through
# apt, quietly; elsewhere say so and go on (the tests that draw then skip with the reason).
# Usage: get-graphviz.sh
command -v dot >/dev/null 2>&1 && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
    echo "get-graphviz: no apt-get here; install Graphviz (dot) to draw graphs"; exit 0
fi
if [ "$(id -u)" = 0 ]; then sudo=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"
else echo "get-graphviz: not root; \`sudo apt-get install graphviz\` to draw graphs"; exit 0
fi
echo "installing graphviz (dot, to draw autograd graphs) ..."
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get install -y -qq graphviz >/dev/null 2>&1 ||
    { $sudo apt-get update -qq >/dev/null 2>&1 &&
      $sudo apt-get install -y -qq graphviz >/dev/null 2>&1; } ||
    echo "get-graphviz: apt could not install graphviz; the tests that draw will skip"
