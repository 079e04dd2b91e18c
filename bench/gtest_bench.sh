#!/bin/sh
# gg test on a suite of COUNT small GoogleTest tests (each ~2 ms of work)
# against running the binary directly and against `ctest -j 2` with one ctest
# entry per test (gtest_discover_tests): gg test -j 2 cold (an empty store)
# and memoized (nothing changed), in one run.
# Usage: bench/gtest_bench.sh [COUNT]   (run it with nice -n 10 on a shared machine)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
GG=${GG:-$root/build/src/cli/gg}
count=${1:-600}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export GG_DIR=$work/.gg
"$GG" init >/dev/null

# The suite: COUNT tests in 20 suites, each summing a few hundred thousand numbers.
mkdir "$work/src"
{
  echo '#include <gtest/gtest.h>'
  echo 'static long Work(long n) { volatile long s = 0; for (long i = 0; i < n; ++i) s = s + i % 7; return s; }'
  i=0
  while [ $i -lt "$count" ]; do
    echo "TEST(Suite$((i % 20)), Test$i) { EXPECT_GE(Work(800000 + $i), 0); }"
    i=$((i + 1))
  done
} > "$work/src/bench_test.cc"
cat > "$work/src/CMakeLists.txt" <<'CMAKE'
cmake_minimum_required(VERSION 3.25)
project(gtest_bench CXX)
find_package(GTest REQUIRED)
include(GoogleTest)
enable_testing()
add_executable(bench_test bench_test.cc)
target_link_libraries(bench_test GTest::gtest GTest::gtest_main)
gtest_discover_tests(bench_test DISCOVERY_TIMEOUT 120)
CMAKE
cmake -S "$work/src" -B "$work/build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C "$work/build" >/dev/null
bin=$work/build/bench_test
tests=$("$bin" --gtest_list_tests | grep -c '^  ')

now() { date +%s.%N; }
secs() { echo "$2 - $1" | bc -l; }
t0=$(now)
"$bin" > /dev/null
t1=$(now)
ctest --test-dir "$work/build" -j 2 > "$work/ctest.log" || { tail "$work/ctest.log"; exit 1; }
t2=$(now)
"$GG" test -j 2 --data-root "$work/build" "$bin" > "$work/cold.log" || { tail "$work/cold.log"; exit 1; }
t3=$(now)
"$GG" test -j 2 --data-root "$work/build" "$bin" > "$work/warm.log"
t4=$(now)
grep -q ' 0 run' "$work/warm.log" || { echo "the second gg test ran thunks:"; tail -3 "$work/warm.log"; exit 1; }
direct=$(secs "$t0" "$t1"); ctest=$(secs "$t1" "$t2"); cold=$(secs "$t2" "$t3"); warm=$(secs "$t3" "$t4")
ms() { echo "$1 * 1000 / $tests" | bc -l | xargs printf %.2f; }
# Overhead per test in ms of a core: (wall x 2 cores - the direct run) / tests.
over() { echo "($1 * 2 - $direct) * 1000 / $tests" | bc -l | xargs printf %.1f; }
echo "$tests tests (load: $(cut -d' ' -f1-3 /proc/loadavg))"
echo "  binary directly (1 process):  $(printf %.2f "$direct") s  ($(ms "$direct") ms/test)"
echo "  ctest -j 2 (a process/test):  $(printf %.2f "$ctest") s  overhead $(over "$ctest") ms/test"
echo "  gg test -j 2, cold:           $(printf %.2f "$cold") s  overhead $(over "$cold") ms/test  ($(tail -2 "$work/cold.log" | head -1 | sed 's/.*: //'))"
echo "  gg test -j 2, memoized:       $(printf %.2f "$warm") s  ($(ms "$warm") ms/test)"
echo "  ratios: cold gg/ctest $(echo "$cold / $ctest" | bc -l | xargs printf %.2f)x, cold gg/direct $(echo "$cold / $direct" | bc -l | xargs printf %.2f)x, memoized gg/ctest $(echo "$warm / $ctest" | bc -l | xargs printf %.3f)x"
