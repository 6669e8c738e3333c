#!/usr/bin/env bash
# Pager speed on this machine: simulation throughput per policy on a 10 M-access
# Zipf(1.0) trace over 1 M pages held in memory (1,000 and 100,000 frames), and
# real-mode costs per fault, per eviction and per eviction with write-back, as
# ratios to one caught fault round trip (faults.BenchmarkFault), interleaved
# round by round. Prints medians.
#
# Usage: bench/pager.sh [ROUNDS]     (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -c -o "$tmp/pager.test" ./pager
go test -c -o "$tmp/live.test" ./pager/live
go test -c -o "$tmp/faults.test" ./faults

metric() { # metric UNIT: print "name value" for each benchmark line
  awk -v unit="$1" '/^Benchmark/ { for (i = 1; i <= NF; i++) if ($i == unit) { sub(/-[0-9]+$/, "", $1); print $1, $(i-1) } }'
}
for r in $(seq "$rounds"); do
  "$tmp/pager.test" -test.run '^$' -test.bench 'BenchmarkSim' -test.benchtime 1x | metric accesses/s >>"$tmp/sim"
  "$tmp/faults.test" -test.run '^$' -test.bench 'BenchmarkFault$' -test.benchtime 16384x | metric ns/fault >>"$tmp/real"
  "$tmp/live.test" -test.run '^$' -test.bench 'BenchmarkReal' -test.benchtime 3x | metric ns/fault >>"$tmp/real"
  printf '.' >&2
done
echo >&2
median() { grep "^$2 " "$1" | awk '{print $2}' | sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

echo "The one step function against the reference loop it replaced (BenchmarkStepFunction:"
echo "both in one process, on one trace in memory, pairs interleaved; time ratio, median of $rounds pairs):"
"$tmp/pager.test" -test.run '^$' -test.bench 'BenchmarkStepFunction' -test.benchtime "${rounds}x" |
  awk '/^Benchmark/ { for (i = 1; i <= NF; i++) if ($i == "step/ref") { sub(/-[0-9]+$/, "", $1); sub(/BenchmarkStepFunction\//, "", $1); printf "%-36s %6.3f\n", $1, $(i-1); s += log($(i-1)); n++ } }
       END { if (n) printf "%-36s %6.3f\n", "geometric mean", exp(s/n) }'
echo
echo "Simulation, median of $rounds runs (M accesses/s, one core):"
printf '%-12s %12s %12s\n' policy "1,000 fr" "100,000 fr"
for p in $(awk '{print $1}' "$tmp/sim" | sed -E 's|BenchmarkSim/policy=([^/]*)/.*|\1|' | awk '!seen[$0]++'); do
  a=$(median "$tmp/sim" "BenchmarkSim/policy=$p/frames=1000")
  b=$(median "$tmp/sim" "BenchmarkSim/policy=$p/frames=100000")
  awk -v p="$p" -v a="$a" -v b="$b" 'BEGIN { printf "%-12s %12.1f %12.1f\n", p, a/1e6, b/1e6 }'
done
echo
fault=$(median "$tmp/real" BenchmarkFault)
echo "Real mode, median of $rounds runs (ns per access; every access faults):"
printf '%-34s %10s %10s\n' case ns "x fault"
printf '%-34s %10.0f %10s\n' "faults.BenchmarkFault (round trip)" "$fault" 1.00
for m in mprotect remap; do
  for c in cold evict-clean evict-dirty; do
    v=$(median "$tmp/real" "BenchmarkReal/mechanism=$m/$c")
    [ -n "$v" ] || continue
    awk -v n="$m/$c" -v v="$v" -v f="$fault" 'BEGIN { printf "%-34s %10.0f %10.2f\n", n, v, v/f }'
  done
  cold=$(median "$tmp/real" "BenchmarkReal/mechanism=$m/cold")
  clean=$(median "$tmp/real" "BenchmarkReal/mechanism=$m/evict-clean")
  dirty=$(median "$tmp/real" "BenchmarkReal/mechanism=$m/evict-dirty")
  awk -v m="$m" -v c="$cold" -v e="$clean" -v d="$dirty" -v f="$fault" 'BEGIN {
    printf "%-34s %10.0f %10.2f\n", m ": eviction alone (clean)", e-c, (e-c)/f
    printf "%-34s %10.0f %10.2f\n", m ": eviction + write-back alone", d-c, (d-c)/f }'
done
