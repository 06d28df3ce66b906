#!/bin/sh
# Make sure Fashion-MNIST is on this machine: found where shallowlab looks, else from Debian's
# or Ubuntu's dataset-fashion-mnist package (as root, or with password-less sudo), else from
# the dataset's mirror. Usage: get-data.sh PATH/TO/shallowlab
shallowlab=${1:-shallowlab}
"$shallowlab" data --no-download 2>/dev/null && exit 0

if command -v apt-get >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then sudo=""
    elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo="sudo -n"
    else sudo="skip"
    fi
    if [ "$sudo" != skip ]; then
        echo "installing Fashion-MNIST from the package dataset-fashion-mnist ..."
        export DEBIAN_FRONTEND=noninteractive
        $sudo apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1 ||
            { $sudo apt-get update -qq >/dev/null 2>&1 &&
              $sudo apt-get install -y -qq dataset-fashion-mnist >/dev/null 2>&1; }
    fi
fi
exec "$shallowlab" data
