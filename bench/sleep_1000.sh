#!/bin/sh
# 1,000 distinct thunks each running `sleep 2`, forced with -j 1000 on the
# local engine. The floor is 2 s; the paper reports 6 s on AWS Lambda
# (PyWren 46 s).  Usage: bench/sleep_1000.sh [COUNT] [SECONDS]
# Two gg builds on this workload, interleaved, with CPU per thunk: bench/compare_builds.sh.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
GG=${GG:-$root/build/src/cli/gg}
count=${1:-1000}
secs=${2:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GG_DIR=$work/.gg
"$GG" init >/dev/null
bb=$("$GG" collect /usr/bin/busybox)
i=0
: > "$work/targets"
# create-thunk per thunk costs a process start each; that is set-up, not timed.
while [ $i -lt "$count" ]; do
  "$GG" create-thunk -e "$bb=/bin/sh" -o out "$bb" sh -c "sleep $secs; echo $i > out" >> "$work/targets"
  i=$((i + 1))
done
start=$(date +%s.%N)
"$GG" force -j "$count" "@$work/targets" > /dev/null
end=$(date +%s.%N)
echo "$count x sleep $secs, -j $count: $(echo "$end - $start" | bc -l | cut -c1-6) s wall (floor $secs s; paper: 6 s on Lambda, PyWren 46 s)"
echo "ratio to the floor: $(echo "($end - $start) / $secs" | bc -l | cut -c1-5)x"
