#!/bin/sh
# Per-thunk overhead: COUNT trivial thunks forced with -j 2 against the same
# commands run with `xargs -P 2`.  Usage: bench/overhead.sh [COUNT]
# Two gg builds on this workload, interleaved, with CPU per thunk: bench/compare_builds.sh.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
GG=${GG:-$root/build/src/cli/gg}
count=${1:-2000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GG_DIR=$work/.gg
"$GG" init >/dev/null
bb=$("$GG" collect /usr/bin/busybox)
mkdir "$work/plain"
i=0
: > "$work/targets"
: > "$work/commands"
while [ $i -lt "$count" ]; do
  "$GG" create-thunk -e "$bb=/bin/sh" -o out "$bb" sh -c "echo $i > out" >> "$work/targets"
  echo "echo $i > $work/plain/$i" >> "$work/commands"
  i=$((i + 1))
done
now() { date +%s.%N; }
t0=$(now)
tr '\n' '\0' < "$work/commands" | xargs -0 -P 2 -n 1 /usr/bin/busybox sh -c
t1=$(now)
"$GG" force -j 2 "@$work/targets" > /dev/null
t2=$(now)
plain=$(echo "$t1 - $t0" | bc -l)
gg=$(echo "$t2 - $t1" | bc -l)
echo "$count trivial commands, 2 at a time:"
echo "  xargs -P 2:  $(printf %.2f "$plain") s ($(echo "$plain * 1000 / $count" | bc -l | xargs printf %.2f) ms each)"
echo "  gg force -j 2: $(printf %.2f "$gg") s ($(echo "$gg * 1000 / $count" | bc -l | xargs printf %.2f) ms each, hermetic sandbox per thunk)"
echo "  ratio gg/xargs: $(echo "$gg / $plain" | bc -l | xargs printf %.2f)x; overhead per thunk: $(echo "($gg - $plain) * 2000 / $count" | bc -l | xargs printf %.2f) ms of a core"
