#!/usr/bin/env bash
# Fault costs side by side, on this machine, in one run: the C baselines of
# bench/fault.c and vmsim's Go benchmarks, interleaved round by round so that
# machine noise hits both alike; prints the median of each and the ratios
# that docs/performance.md quotes.
#
# Usage: bench/run.sh [ROUNDS]     (default 9; PAGES=16384 fresh pages a round)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-9}
pages=${PAGES:-16384}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cc -O2 -o "$tmp/fault" bench/fault.c
go test -c -o "$tmp/faults.test" ./faults

for r in $(seq "$rounds"); do
  for mode in kernel handler longjmp; do
    "$tmp/fault" "$mode" "$pages" 1 | awk -v m="c-$mode" '{print m, $2}' >>"$tmp/results"
  done
  "$tmp/faults.test" -test.run '^$' -test.bench 'BenchmarkFault$|BenchmarkKernelFirstTouch$|BenchmarkLoopAccess' \
    -test.benchtime "${pages}x" -test.count 1 |
    awk '/^Benchmark/ { for (i = 1; i <= NF; i++) if ($i ~ /^ns\/(fault|access)$/) { sub(/-[0-9]+$/, "", $1); print "go-" $1, $(i-1) } }' >>"$tmp/results"
  printf '.' >&2
done
echo >&2

median() { grep "^$1 " "$tmp/results" | awk '{print $2}' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
go_fault=$(median go-BenchmarkFault)
go_kernel=$(median go-BenchmarkKernelFirstTouch)
c_kernel=$(median c-kernel)
c_handler=$(median c-handler)
c_longjmp=$(median c-longjmp)
loop=$(median go-BenchmarkLoopAccess/guard=loop)
raw=$(median go-BenchmarkLoopAccess/guard=none)

printf '%-58s %10s\n' "medians of $rounds rounds, $pages fresh pages each" "ns"
printf '%-58s %10.0f\n' "kernel first-touch fault (C, plain anonymous memory)" "$c_kernel"
printf '%-58s %10.0f\n' "kernel first-touch fault (Go, plain anonymous memory)" "$go_kernel"
printf '%-58s %10.0f\n' "C: sigaction SIGSEGV handler + mprotect, restart" "$c_handler"
printf '%-58s %10.0f\n' "C: handler + mprotect + siglongjmp, retry" "$c_longjmp"
printf '%-58s %10.0f\n' "Go: faults.Registry.Do + mprotect + retry (BenchmarkFault)" "$go_fault"
printf '%-58s %10.2f\n' "Go: resident access through faults.Loop (ns/access)" "$loop"
printf '%-58s %10.2f\n' "Go: the same loop unguarded (ns/access)" "$raw"
echo
awk -v g="$go_fault" -v c="$c_handler" -v k="$c_kernel" -v l="$loop" -v r="$raw" 'BEGIN {
  printf "Go fault / C handler          %5.2fx  (target <= 1.0)\n", g / c
  printf "Go fault / kernel first touch %5.2fx  (target <= 2.0)\n", g / k
  printf "guarded / unguarded access    %5.2fx  (%.2f ns, target <= 2 ns)\n", l / r, l
}'
