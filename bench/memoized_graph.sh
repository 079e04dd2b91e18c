#!/bin/sh
# Forcing a synthetic job of COUNT thunks that are all already reduced: wall
# time and peak memory of `gg force`, with every thunk a target (so each is
# checked), and with only the last one (lazy loading stops at its reduction).
# Usage: bench/memoized_graph.sh [COUNT]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
GG=${GG:-$root/build/src/cli/gg}
MAKE=${MAKE_GRAPH:-$root/build/bench/make_memoized_graph}
count=${1:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GG_DIR=$work/.gg
"$GG" init >/dev/null
"$MAKE" "$count" /usr/bin/busybox > "$work/targets"
tail -n 1 "$work/targets" > "$work/last"
sync
measure() {
  /usr/bin/time -f "%e %M" -o "$work/time" "$GG" force "$@" > /dev/null
  read -r secs kib < "$work/time"
  echo "$secs s, peak RSS $((kib / 1024)) MiB"
}
echo "$count memoized thunks, all as targets: $(measure "@$work/targets")"
echo "$count memoized thunks, only the last as target: $(measure "@$work/last")"
