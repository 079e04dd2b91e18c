#!/bin/sh
# Sandbox start-up against the number of inputs (issue 9, item 2): COUNT
# trivial thunks, each with 10, 1,000 and 10,000 distinct small inputs in its
# working directory (as a compile's headers are), forced one at a time.
# Prints the per-thunk time for each size and its ratio to the 10-input one.
# Usage: bench/sandbox_inputs.sh [COUNT]   (GG=path/to/gg to compare builds)
# Two gg builds on this workload, interleaved, with CPU per thunk: bench/compare_builds.sh.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
GG=${GG:-$root/build/src/cli/gg}
count=${1:-20}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GG_DIR=$work/.gg
"$GG" init >/dev/null
bb=$("$GG" collect /usr/bin/busybox)
# 10,000 distinct files in 100 directories, stored once.
"$root/bench/make_inputs.sh" "$work"
(cd "$work/src" && tr '\n' '\0' < "$work/paths" | xargs -0 "$GG" collect) > "$work/names"
paste -d= "$work/names" "$work/paths" | sed 's/^/-v\n/' > "$work/all_args"
now() { date +%s.%N; }
base=""
echo "$count thunks forced one at a time (-j 1), inputs under the work dir:"
for n in 10 1000 10000; do
  head -n $((2 * n)) "$work/all_args" > "$work/args"
  : > "$work/targets"
  k=0
  while [ $k -lt "$count" ]; do
    tr '\n' '\0' < "$work/args" |
      xargs -0 -s 1900000 sh -c '"$0" create-thunk "$@" -e "'"$bb"'=/bin/sh" -o out "'"$bb"'" sh -c "echo '"$n $k"' > out"' "$GG" \
      >> "$work/targets"
    k=$((k + 1))
  done
  t0=$(now)
  "$GG" force -j 1 "@$work/targets" > /dev/null
  t1=$(now)
  ms=$(echo "($t1 - $t0) * 1000 / $count" | bc -l)
  [ -n "$base" ] || base=$ms
  printf "  %6d inputs: %8.2f ms per thunk (%.2fx the 10-input thunk)\n" "$n" "$ms" "$(echo "$ms / $base" | bc -l)"
done
