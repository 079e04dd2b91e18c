#!/bin/sh
# A real build on the local engine against 4 loopback workers, in one run:
# `gg infer make -j2` of a Debian source package, then its placeholders
# forced with `-j 2` locally, with 4 fresh workers (each first receives the
# captured toolchain), and with the same 4 workers warm. On 2 cores expect
# no gain: the figure is the overhead per thunk of going through workers.
# usage: bench/projects/remote_build.sh [PACKAGE]   (default zlib; needs root)
set -eu
pkg=${1:-zlib}
here=$(cd "$(dirname "$0")/../.." && pwd)
GG=${GG:-$here/build/src/cli/gg}
work=$(mktemp -d /tmp/gg-bench-XXXXXX)
cleanup() { pkill -f "gg worker --connect 127.0.0.1:$port" 2>/dev/null || true; rm -rf "$work"; }
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
trap cleanup EXIT
. "$here/bench/projects/source.sh"
extract_source "$pkg" "$work/src"
cd "$work/src"
if [ "$pkg" = zlib ]; then ./configure >/dev/null; else ./configure >/dev/null 2>&1; fi
export GG_DIR=$work/gg
"$GG" init >/dev/null
"$GG" infer make -j2 >/dev/null 2>&1
grep -lr "^# gg-placeholder" . 2>/dev/null > "$work/placeholders" || true
count=$(wc -l < "$work/placeholders")
tar cf "$work/placeholders.tar" -T "$work/placeholders"
echo "bench secret" > "$work/secret"
now() { date +%s.%N; }
# Forces every placeholder from scratch (reductions dropped, placeholders back).
force() {
  rm -rf "$GG_DIR/reductions"/*
  tar xf "$work/placeholders.tar"
  s=$(now); "$GG" force "$@" "@$work/placeholders" >/dev/null; e=$(now)
  echo "$e - $s" | bc -l
}
workers() {
  for i in 1 2 3 4; do
    env -u GG_DIR "$GG" worker --connect "127.0.0.1:$port" --secret-file "$work/secret" --slots 1 \
      --cache "$work/worker$i" >/dev/null 2>&1 &
  done
}
local=$(force -j 2)
workers; cold=$(force --engine "remote=127.0.0.1:$port" --secret-file "$work/secret")
workers; warm=$(force --engine "remote=127.0.0.1:$port" --secret-file "$work/secret")
f() { printf %.2f "$1"; }
echo "$pkg: $count thunks"
echo "  local engine -j 2:          $(f "$local") s"
echo "  4 loopback workers, cold:   $(f "$cold") s (toolchain shipped to each: $(du -sh "$work/worker1/blobs" | cut -f1))"
echo "  4 loopback workers, warm:   $(f "$warm") s"
echo "  ratio warm/local: $(echo "$warm / $local" | bc -l | xargs printf %.2f)x; overhead per thunk: $(echo "($warm - $local) * 1000 / $count" | bc -l | xargs printf %.1f) ms"
