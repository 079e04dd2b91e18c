#!/bin/sh
# `gg hash` of a large file against sha256sum and openssl dgst -sha256.
# Usage: bench/hash.sh [MiB]   (default 1024)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
GG=${GG:-$root/build/src/cli/gg}
mib=${1:-1024}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
head -c "$((mib * 1024 * 1024))" /dev/urandom > "$work/big"
cat "$work/big" > /dev/null  # in the page cache for everyone
now() { date +%s.%N; }
run() {
  t0=$(now); "$@" > /dev/null; t1=$(now)
  echo "$t1 - $t0" | bc -l
}
# No store: gg hashes the file itself, without its hash cache.
g=$(run env -u GG_DIR sh -c "cd / && '$GG' hash '$work/big'")
s=$(run sha256sum "$work/big")
o=$(run openssl dgst -sha256 "$work/big")
rate() { echo "$mib / 1024 / $1" | bc -l | xargs printf %.2f; }
echo "hashing $mib MiB (page cache warm):"
echo "  gg hash:             $(printf %.2f "$g") s  $(rate "$g") GiB/s"
echo "  openssl dgst -sha256: $(printf %.2f "$o") s  $(rate "$o") GiB/s"
echo "  sha256sum:           $(printf %.2f "$s") s  $(rate "$s") GiB/s"
echo "  ratio gg/openssl: $(echo "$g / $o" | bc -l | xargs printf %.2f)x, gg/sha256sum: $(echo "$g / $s" | bc -l | xargs printf %.2f)x"
