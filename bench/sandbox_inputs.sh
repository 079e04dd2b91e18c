#!/bin/sh
# Sandbox start-up against the number of inputs (issue 9, item 2): COUNT
# trivial thunks, each with 10, 1,000 and 10,000 distinct small inputs in its
# working directory (as a compile's headers are), forced one at a time.
# Prints the per-thunk time for each size and its ratio to the 10-input one,
# and the CPU per thunk of COUNT more such thunks once the input view exists.
# With ROUNDS > 1, that CPU is measured ROUNDS times, the sizes interleaved
# (a shared machine's load moves all alike), and the medians are printed.
# Usage: bench/sandbox_inputs.sh [COUNT [ROUNDS]]   (GG=path/to/gg to compare builds)
# Two gg builds on this workload, interleaved, with CPU per thunk: bench/compare_builds.sh.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
GG=${GG:-$root/build/src/cli/gg}
count=${1:-20}
rounds=${2:-1}
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
# cpu_per_thunk TARGETS: user + system time of gg and all it waited for.
cpu_per_thunk() {
  python3 -c '
import resource, subprocess, sys
subprocess.run(sys.argv[2:], stdout=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.2f" % ((r.ru_utime + r.ru_stime) * 1000 / int(sys.argv[1])))' "$count" "$GG" force -j 1 "@$1"
}
# make_thunks FILE LABEL: COUNT thunks with the inputs in $work/args, each
# writing "LABEL K" (so all differ), their names in FILE.
make_thunks() {
  : > "$1"
  k=0
  while [ $k -lt "$count" ]; do
    tr '\n' '\0' < "$work/args" |
      xargs -0 -s 1900000 sh -c '"$0" create-thunk "$@" -e "'"$bb"'=/bin/sh" -o out "'"$bb"'" sh -c "echo '"$2 $k"' > out"' "$GG" \
      >> "$1"
    k=$((k + 1))
  done
}
base=""
cpu_base=""
echo "$count thunks forced one at a time (-j 1), inputs under the work dir:"
for n in 10 1000 10000; do
  head -n $((2 * n)) "$work/all_args" > "$work/args"
  make_thunks "$work/targets" "$n"
  t0=$(now)
  "$GG" force -j 1 "@$work/targets" > /dev/null
  t1=$(now)
  ms=$(echo "($t1 - $t0) * 1000 / $count" | bc -l)
  [ -n "$base" ] || base=$ms
  # CPU with the input view made (by the first thunk above): COUNT more
  # thunks of the same inputs, user + system time of gg and all it waited for.
  cp "$work/args" "$work/args.$n"
  make_thunks "$work/more" "$n more"
  cpu=$(cpu_per_thunk "$work/more")
  echo "$n $cpu" >> "$work/cpu"
  [ -n "$cpu_base" ] || cpu_base=$cpu
  printf "  %6d inputs: %8.2f ms per thunk (%.2fx the 10-input thunk); CPU with the view made %6.2f ms (%.2fx)\n" \
    "$n" "$ms" "$(echo "$ms / $base" | bc -l)" "$cpu" "$(echo "$cpu / $cpu_base" | bc -l)"
done
[ "$rounds" -gt 1 ] || exit 0
r=1
while [ $r -lt "$rounds" ]; do
  for n in 10 1000 10000; do
    cp "$work/args.$n" "$work/args"
    make_thunks "$work/more" "$n round $r"
    echo "$n $(cpu_per_thunk "$work/more")" >> "$work/cpu"
  done
  r=$((r + 1))
done
echo "CPU per thunk with the view made, median of $rounds rounds:"
python3 -c '
import statistics, sys
cpu = {}
for line in open(sys.argv[1]):
    n, ms = line.split()
    cpu.setdefault(int(n), []).append(float(ms))
base = statistics.median(cpu[10])
for n in sorted(cpu):
    m = statistics.median(cpu[n])
    print("  %6d inputs: %6.2f ms (%.2fx the 10-input thunk; rounds: %s)" % (n, m, m / base, " ".join("%.1f" % v for v in cpu[n])))' "$work/cpu"
