#!/usr/bin/env bash
# End-to-end replay speed (read + decode + number the pages + simulate) per
# trace format and policy, and the peak memory of a long replay. The traces
# are made with vmsim gen: Zipf(1.0) over 1 M pages, the setting of the
# research simulators' figures in MEASURED.md, converted to each format.
#
# Each round runs every format once for a policy, in an order that rotates
# from round to round, so that a change in the machine's speed falls on all
# formats alike; the figures are medians over the rounds, and "/ vmt" is the
# median of each round's time over the vmt replay's of the same round.
# GOMAXPROCS is 1 (one core: decoding and simulation take turns) unless
# PROCS says otherwise (PROCS=2: the decoder and the simulation each have a
# core).
#
# Usage: bench/replay.sh [ACCESSES] [ROUNDS]   (default 10000000 accesses, 3 rounds)
#        RSS_ACCESSES=100000000 bench/replay.sh   also measures peak RSS on 100 M
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000000}
rounds=${2:-3}
frames=${FRAMES:-100000}
procs=${PROCS:-1}
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
  t0=$(date +%s%N)
  "$@" >/dev/null
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { print (b - a) / 1e9 }'
}

formats=(vmt oracle pages)
echo "# $(date -u +%Y-%m-%d), GOMAXPROCS=$procs, $rounds rounds, load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-8s %10s %8s\n' format policy "M acc/s" "/ vmt"
for p in fifo lru clock sieve s3fifo opt; do
  for f in "${formats[@]}"; do : >"$tmp/s.$f"; done
  : >"$tmp/r.oracle" >"$tmp/r.pages"
  for r in $(seq "$rounds"); do
    declare -A t=()
    for k in 0 1 2; do
      f=${formats[$(((k + r) % 3))]}
      t[$f]=$(GOMAXPROCS=$procs seconds "$v" replay -p "$p" -f "$frames" "$tmp/t.$f")
      echo "${t[$f]}" >>"$tmp/s.$f"
    done
    for f in oracle pages; do
      awk -v a="${t[$f]}" -v b="${t[vmt]}" 'BEGIN { print a / b }' >>"$tmp/r.$f"
    done
  done
  for f in "${formats[@]}"; do
    s=$(median <"$tmp/s.$f")
    rel="1"
    [ "$f" != vmt ] && rel=$(median <"$tmp/r.$f")
    awk -v f="$f" -v p="$p" -v n="$n" -v s="$s" -v r="$rel" 'BEGIN { printf "%-8s %-8s %10.1f %8.2f\n", f, p, n / s / 1e6, r }'
  done
done
s=$(for r in $(seq "$rounds"); do GOMAXPROCS=$procs seconds "$v" mrc "$tmp/t.vmt"; done | median)
awk -v n="$n" -v s="$s" 'BEGIN { printf "exact LRU miss-ratio curve of %d accesses (vmt): %.2f s\n", n, s }'
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"

if [ -n "${RSS_ACCESSES:-}" ]; then
  echo "generating $RSS_ACCESSES accesses for the memory test..." >&2
  "$v" gen zipf --n "$RSS_ACCESSES" --pages 1000000 --alpha 1.0 --writes 0.1 --seed 2 --to vmt -o "$tmp/big.vmt"
  rm -f "$tmp/t.oracle" "$tmp/t.pages"
  for p in fifo lru clock sieve s3fifo arc lfu opt; do
    kb=$(/usr/bin/time -f %M "$v" replay -p "$p" -f "$frames" "$tmp/big.vmt" 2>&1 >/dev/null | tail -1)
    awk -v p="$p" -v kb="$kb" -v n="$RSS_ACCESSES" 'BEGIN { printf "peak RSS, %s, %d accesses: %.0f MiB (%.2f bytes/access)\n", p, n, kb/1024, kb*1024/n }'
  done
fi
