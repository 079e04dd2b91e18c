#!/bin/sh
# COUNT `sleep SECS` thunks over WORKERS loopback workers with SLOTS slots
# each (the paper: 1,000 x sleep 2 in 6 s on Lambda), against the same job on
# the local engine with -j WORKERS*SLOTS.
# Usage: bench/remote_sleep.sh [COUNT] [SECS] [WORKERS] [SLOTS]
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
GG=${GG:-$root/build/src/cli/gg}
count=${1:-1000}; secs=${2:-2}; workers=${3:-10}; slots=${4:-100}
work=$(mktemp -d)
cleanup() { kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
export GG_DIR=$work/.gg
"$GG" init >/dev/null
bb=$("$GG" collect /usr/bin/busybox)
i=0
while [ $i -lt "$count" ]; do
  "$GG" create-thunk -e "$bb=/bin/sh" -o out "$bb" sh -c "sleep $secs; echo $i > out"
  i=$((i + 1))
done > "$work/targets"
echo "bench secret" > "$work/secret"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
now() { date +%s.%N; }
t0=$(now)
w=0
while [ $w -lt "$workers" ]; do
  env -u GG_DIR "$GG" worker --connect "127.0.0.1:$port" --secret-file "$work/secret" \
    --slots "$slots" --cache "$work/w$w" &
  w=$((w + 1))
done
"$GG" force --engine "remote=127.0.0.1:$port" --secret-file "$work/secret" "@$work/targets" > /dev/null
t1=$(now)
rm -rf "$GG_DIR/reductions"/*
"$GG" force -j "$((workers * slots))" "@$work/targets" > /dev/null
t2=$(now)
remote=$(echo "$t1 - $t0" | bc -l); local=$(echo "$t2 - $t1" | bc -l)
echo "$count x sleep $secs over $workers loopback workers x $slots slots: $(printf %.2f "$remote") s (workers started inside the timing)"
echo "same job, local engine -j $((workers * slots)): $(printf %.2f "$local") s"
echo "ratio remote/local: $(echo "$remote / $local" | bc -l | xargs printf %.2f)x (floor $secs s; paper: 6 s on Lambda)"
