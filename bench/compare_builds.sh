#!/bin/sh
# Two gg builds on the same sandbox workloads, interleaved, several rounds:
# a noisy, shared machine slows both alike within a round, so the ratio
# after/before is what to read. For each force it records wall time and the
# CPU (user + sys) of gg and everything it waited for (the sandbox server,
# every sandbox and program), with GNU time; it prints the median of the
# rounds per thunk and the median of the per-round ratios.
#
# Usage: bench/compare_builds.sh BEFORE_GG AFTER_GG [ROUNDS] [WORKLOAD...]
# Workloads (default: overhead:1000 sleep:1000:2 inputs:20:10,1000,10000):
#   overhead:COUNT        COUNT trivial thunks (echo > out), -j 2 (bench/overhead.sh)
#   sleep:COUNT:SECS      COUNT thunks each sleeping SECS, -j COUNT (bench/sleep_1000.sh)
#   inputs:COUNT:N,N,...  COUNT trivial thunks with N inputs in their work dir, -j 1
#                         (bench/sandbox_inputs.sh): the same inputs, so after
#                         the first thunk their input view is made already
#   distinct:COUNT:N,N,...  the same, but each thunk's N inputs differ from the
#                         others' in one file: each is a first use (its own view)
# Every round forces into a fresh copy of a store made once per build, so
# nothing is memoized and neither build's objects help the other.
set -eu
[ $# -ge 2 ] || { sed -n '2,19s/^# \{0,1\}//p' "$0"; exit 2; }
before=$(realpath "$1")
after=$(realpath "$2")
rounds=${3:-5}
shift 2
[ $# -eq 0 ] || shift
workloads=${*:-overhead:1000 sleep:1000:2 inputs:20:10,1000,10000}
work=$(mktemp -d "${TMPDIR:-/tmp}/gg-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT

# 10,000 distinct small files in 100 directories, for the inputs workload.
make_sources() { [ -d "$work/src" ] || "$(dirname "$0")/make_inputs.sh" "$work"; }

# template DIR GG KIND COUNT ARG: a store in DIR/.gg holding the thunks,
# their names in DIR/targets.
template() {
  dir=$1 gg=$2 kind=$3 count=$4 arg=$5
  mkdir -p "$dir"
  GG_DIR=$dir/.gg "$gg" init >/dev/null
  bb=$(GG_DIR=$dir/.gg "$gg" collect /usr/bin/busybox)
  : > "$dir/targets"
  if [ "$kind" = inputs ] || [ "$kind" = distinct ]; then
    (cd "$work/src" && head -n "$arg" "$work/paths" | tr '\n' '\0' | GG_DIR=$dir/.gg xargs -0 "$gg" collect) \
      > "$dir/names"
    head -n "$arg" "$work/paths" | paste -d= "$dir/names" - | sed 's/^/-v\n/' > "$dir/args"
  fi
  k=0
  while [ $k -lt "$count" ]; do
    case $kind in
      overhead) GG_DIR=$dir/.gg "$gg" create-thunk -e "$bb=/bin/sh" -o out "$bb" sh -c "echo $k > out" ;;
      sleep) GG_DIR=$dir/.gg "$gg" create-thunk -e "$bb=/bin/sh" -o out "$bb" sh -c "sleep $arg; echo $k > out" ;;
      inputs) tr '\n' '\0' < "$dir/args" | GG_DIR=$dir/.gg xargs -0 -s 1900000 sh -c \
          '"$0" create-thunk "$@" -e "'"$bb"'=/bin/sh" -o out "'"$bb"'" sh -c "echo '"$arg $k"' > out"' "$gg" ;;
      distinct)
        # The last of the N inputs is this thunk's own file.
        echo "$k" > "$dir/own"
        own=$(GG_DIR=$dir/.gg "$gg" collect "$dir/own")
        head -n $((2 * arg - 2)) "$dir/args" | { cat; printf -- '-v\n%s=own.h\n' "$own"; } | tr '\n' '\0' |
          GG_DIR=$dir/.gg xargs -0 -s 1900000 sh -c \
          '"$0" create-thunk "$@" -e "'"$bb"'=/bin/sh" -o out "'"$bb"'" sh -c "echo '"$arg $k"' > out"' "$gg" ;;
    esac
    k=$((k + 1))
  done >> "$dir/targets"
}

# force DIR GG JOBS RESULT: one timed force in a fresh copy of DIR's store;
# appends "wall cpu" (seconds) to RESULT.
force() {
  rm -rf "$work/run"
  cp -a "$1/.gg" "$work/run"
  GG_DIR=$work/run python3 -c '
import resource, subprocess, sys, time
t = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
print("%.4f %.4f" % (time.monotonic() - t, r.ru_utime + r.ru_stime))' "$2" force -j "$3" "@$1/targets" >> "$4"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "before: $before"
echo "after:  $after"
echo "$rounds rounds, interleaved (the order alternates each round); load at start: $(cut -d' ' -f1-3 /proc/loadavg)"
for w in $workloads; do
  kind=${w%%:*}
  rest=${w#*:}
  count=${rest%%:*}
  case $kind in
    overhead) sizes=-; jobs=2; label="$count trivial thunks, -j 2" ;;
    sleep) sizes=${rest#*:}; jobs=$count; label="$count thunks sleeping $sizes s, -j $count" ;;
    inputs) make_sources; sizes=$(echo "${rest#*:}" | tr , ' '); jobs=1; label="$count trivial thunks, -j 1" ;;
    distinct) make_sources; sizes=$(echo "${rest#*:}" | tr , ' '); jobs=1
      label="$count trivial thunks, -j 1, each with its own inputs (first use)" ;;
    *) echo "unknown workload $w" >&2; exit 2 ;;
  esac
  for arg in $sizes; do
    name=$kind.$arg
    for b in before after; do
      eval "gg=\$$b"
      template "$work/$name.$b" "$gg" "$kind" "$count" "$arg"
      : > "$work/$name.$b.times"
    done
    r=0
    while [ $r -lt "$rounds" ]; do
      if [ $((r % 2)) -eq 0 ]; then order="before after"; else order="after before"; fi
      for b in $order; do
        eval "gg=\$$b"
        force "$work/$name.$b" "$gg" "$jobs" "$work/$name.$b.times"
      done
      r=$((r + 1))
    done
    title=$label
    case $kind in inputs | distinct) title="$label, $arg inputs each" ;; esac
    echo "$title (median of $rounds; per thunk):"
    for b in before after; do
      wall=$(cut -d' ' -f1 "$work/$name.$b.times" | median)
      cpu=$(cut -d' ' -f2 "$work/$name.$b.times" | median)
      printf "  %-6s wall %8.3f ms  cpu %8.3f ms   (rounds, s wall/cpu: %s)\n" "$b" \
        "$(echo "$wall * 1000 / $count" | bc -l)" "$(echo "$cpu * 1000 / $count" | bc -l)" \
        "$(awk '{ printf "%s%.2f/%.2f", (NR > 1 ? ", " : ""), $1, $2 }' "$work/$name.$b.times")"
    done
    paste -d' ' "$work/$name.before.times" "$work/$name.after.times" > "$work/pairs"
    printf "  after/before: wall %.3fx  cpu %.3fx (median of per-round ratios)\n" \
      "$(awk '{ print $3 / $1 }' "$work/pairs" | median)" "$(awk '{ print $4 / $2 }' "$work/pairs" | median)"
  done
done
echo "load at end: $(cut -d' ' -f1-3 /proc/loadavg)"
