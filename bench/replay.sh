#!/usr/bin/env bash
# End-to-end replay speed (read + decode + simulate, on one core:
# GOMAXPROCS=1) per trace format and policy, and the peak memory of a long
# replay. The traces are made with vmsim gen: Zipf(1.0) over 1 M pages, the
# setting of the research simulators' figures in MEASURED.md.
#
# Usage: bench/replay.sh [ACCESSES] [ROUNDS]   (default 10000000 accesses, 3 rounds)
#        RSS_ACCESSES=100000000 bench/replay.sh   also measures peak RSS on 100 M
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000000}
rounds=${2:-3}
frames=${FRAMES:-100000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/vmsim" ./cmd/vmsim
v="$tmp/vmsim"
echo "generating $n accesses (zipf 1.0 over 1,000,000 pages, 10% writes)..." >&2
"$v" gen zipf --n "$n" --pages 1000000 --alpha 1.0 --writes 0.1 --seed 1 --to vmt -o "$tmp/t.vmt"
"$v" convert "$tmp/t.vmt" "$tmp/t.oracle" --to oracle
"$v" convert "$tmp/t.vmt" "$tmp/t.pages" --to pages

median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
seconds() { # seconds CMD...: wall time of one run
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >/dev/null
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }'
}

printf '%-8s %-8s %12s\n' format policy "M acc/s"
for fmt in vmt oracle pages; do
  for p in fifo lru clock sieve s3fifo opt; do
    s=$(for r in $(seq "$rounds"); do GOMAXPROCS=1 seconds "$v" replay -p "$p" -f "$frames" "$tmp/t.$fmt"; done | median)
    awk -v f="$fmt" -v p="$p" -v n="$n" -v s="$s" 'BEGIN { printf "%-8s %-8s %12.1f\n", f, p, n / s / 1e6 }'
  done
done
s=$(for r in $(seq "$rounds"); do GOMAXPROCS=1 seconds "$v" mrc "$tmp/t.vmt"; done | median)
awk -v n="$n" -v s="$s" 'BEGIN { printf "exact LRU miss-ratio curve of %d accesses: %.2f s\n", n, s }'

if [ -n "${RSS_ACCESSES:-}" ]; then
  echo "generating $RSS_ACCESSES accesses for the memory test..." >&2
  "$v" gen zipf --n "$RSS_ACCESSES" --pages 1000000 --alpha 1.0 --writes 0.1 --seed 2 --to vmt -o "$tmp/big.vmt"
  rm -f "$tmp/t.oracle" "$tmp/t.pages"
  for p in fifo lru clock sieve s3fifo arc lfu opt; do
    kb=$(/usr/bin/time -f %M "$v" replay -p "$p" -f "$frames" "$tmp/big.vmt" 2>&1 >/dev/null | tail -1)
    awk -v p="$p" -v kb="$kb" -v n="$RSS_ACCESSES" 'BEGIN { printf "peak RSS, %s, %d accesses: %.0f MiB (%.2f bytes/access)\n", p, n, kb/1024, kb*1024/n }'
  done
fi
