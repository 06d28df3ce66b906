#!/bin/sh
# Build TensorFlow Playground (github.com/tensorflow/playground) for benchmarks/playground_pace.py,
# in a cache folder outside this repository: its sources and node_modules are other people's
# code and are never committed here.
#
#   sh scripts/get-tf-playground.sh [DEST]     # DEST defaults to ~/.cache/shallowlab/tf-playground
#
# The sources come from TF_PLAYGROUND_GIT (a local clone or bare git directory, e.g. a mirror)
# when it is set, else from GitHub with `git clone`. The build needs npm (installed through
# get-apt.sh where it can be) and the npm registry. The built page ends up in DEST/dist; run
# the benchmark with
#   TF_PLAYGROUND=DEST/dist .venv/bin/python -m benchmarks.playground_pace
set -eu
DEST=${1:-${XDG_CACHE_HOME:-$HOME/.cache}/shallowlab/tf-playground}
if [ -f "$DEST/dist/bundle.js" ]; then
    echo "TensorFlow Playground already built: $DEST/dist"
    exit 0
fi
sh "$(dirname "$0")/get-apt.sh" npm npm "the TensorFlow Playground build"
command -v npm >/dev/null || { echo "get-tf-playground: no npm; apt-get install npm" >&2; exit 2; }
mkdir -p "$DEST"
if [ ! -f "$DEST/package.json" ]; then
    if [ -n "${TF_PLAYGROUND_GIT:-}" ]; then
        git --git-dir="$TF_PLAYGROUND_GIT" archive HEAD | tar -x -C "$DEST"
    else
        git clone --depth 1 https://github.com/tensorflow/playground "$DEST.clone"
        git --git-dir="$DEST.clone/.git" archive HEAD | tar -x -C "$DEST"
        rm -rf "$DEST.clone"
    fi
fi
cd "$DEST"
# `npm ci` follows the lock file; its packages are old (TypeScript 2.9, browserify) but build.
npm ci --no-audit --no-fund --loglevel=error
mkdir -p dist
npm run build
echo "TensorFlow Playground built: $DEST/dist"
