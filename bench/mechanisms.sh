#!/usr/bin/env bash
# Real-mode mechanisms side by side, on this machine, in one run: the C
# baselines of bench/fault.c (kernel first touch, sigaction + mprotect,
# userfaultfd + SIGBUS), the Go fault round trips (faults.BenchmarkFault,
# vm.BenchmarkUserfault) and real-mode paging per mechanism
# (pager/live BenchmarkReal), interleaved round by round so that machine
# noise hits all alike. Prints the median of each, in ns, and the ratios
# that docs/performance.md quotes.
#
# Usage: bench/mechanisms.sh [ROUNDS]   (default 9; PAGES=16384 fresh pages
#                                        a round for the fault round trips)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-9}
pages=${PAGES:-16384}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cc -O2 -o "$tmp/fault" bench/fault.c
go test -c -o "$tmp/faults.test" ./faults
go test -c -o "$tmp/vm.test" ./vm
go test -c -o "$tmp/live.test" ./pager/live

# bench NAME... keeps "name value" for every ns/fault metric.
bench() {
  awk '/^Benchmark/ { for (i = 1; i <= NF; i++) if ($i == "ns/fault") { sub(/-[0-9]+$/, "", $1); print $1, $(i-1) } }' >>"$tmp/results"
}

for r in $(seq "$rounds"); do
  for mode in kernel handler uffd uffd-wp; do
    "$tmp/fault" "$mode" "$pages" 1 | awk -v m="C/$mode" '{print m, $2}' >>"$tmp/results"
  done
  "$tmp/faults.test" -test.run '^$' -test.bench 'BenchmarkFault$|BenchmarkKernelFirstTouch$' \
    -test.benchtime "${pages}x" -test.count 1 | bench
  "$tmp/vm.test" -test.run '^$' -test.bench 'BenchmarkUserfault' -test.benchtime "${pages}x" -test.count 1 | bench
  "$tmp/live.test" -test.run '^$' -test.bench 'BenchmarkReal' -test.benchtime 3x -test.count 1 | bench
  printf '.' >&2
done
echo >&2

median() {
  local v
  v=$(grep "^$1 " "$tmp/results" | awk '{print $2}' | sort -g | awk '{a[NR]=$1} END {if (NR) print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')
  echo "${v:-nan}"
}
row() { printf '%-62s %9.0f\n' "$1" "$2"; }

c_kernel=$(median C/kernel)
go_kernel=$(median BenchmarkKernelFirstTouch)
c_handler=$(median C/handler)
c_uffd=$(median C/uffd)
c_wp=$(median C/uffd-wp)
go_mprotect=$(median BenchmarkFault)
go_uffd_w=$(median BenchmarkUserfault/fault=missing/write)
go_uffd_r=$(median BenchmarkUserfault/fault=missing/read)
go_wp=$(median BenchmarkUserfault/fault=write-protect)

echo "medians of $rounds rounds; ns per fault (fault round trips: $pages fresh pages a round)"
echo
echo "fault round trips"
row "kernel first touch, plain anonymous memory (C)" "$c_kernel"
row "kernel first touch, plain anonymous memory (Go)" "$go_kernel"
row "C: sigaction SIGSEGV + mprotect, restart" "$c_handler"
row "C: userfaultfd SIGBUS + UFFDIO_COPY, restart" "$c_uffd"
row "C: userfaultfd SIGBUS + lift write protection (written page)" "$c_wp"
row "Go: faults.Do + mprotect + retry" "$go_mprotect"
row "Go: faults.Do + SIGBUS + UFFDIO_COPY, write" "$go_uffd_w"
row "Go: faults.Do + SIGBUS + UFFDIO_COPY_MODE_WP, read" "$go_uffd_r"
row "Go: faults.Do + SIGBUS + lift write protection (written page)" "$go_wp"
echo
printf '%-26s %9s %9s %11s %12s %12s\n' "real mode (pager/live)" cold cold-write protection evict-clean evict-dirty
for m in mprotect remap uffd; do
  cold=$(median "BenchmarkReal/mechanism=$m/cold")
  coldw=$(median "BenchmarkReal/mechanism=$m/cold-write")
  prot=$(median "BenchmarkReal/mechanism=$m/protection")
  ec=$(median "BenchmarkReal/mechanism=$m/evict-clean")
  ed=$(median "BenchmarkReal/mechanism=$m/evict-dirty")
  printf '%-26s %9.0f %9.0f %11.0f %12.0f %12.0f\n' "$m" "$cold" "$coldw" "$prot" "$ec" "$ed"
  eval "cold_$m=$cold; coldw_$m=$coldw; prot_$m=$prot; ec_$m=$ec; ed_$m=$ed"
done
printf '%-26s %9s %9s %11s %12s %12s\n' "" "" "" "" "(per evict)" "(per evict)"
for m in mprotect remap uffd; do
  # evict-clean - cold: a clean eviction; evict-dirty - cold-write: a dirty one.
  eval "c=\$cold_$m cw=\$coldw_$m ec=\$ec_$m ed=\$ed_$m"
  awk -v m="$m" -v c="$c" -v cw="$cw" -v ec="$ec" -v ed="$ed" \
    'BEGIN { printf "%-26s %9s %9s %11s %12.0f %12.0f\n", "  " m ", eviction alone", "", "", "", ec - c, ed - cw }'
done
echo
awk -v k="$go_kernel" -v ck="$c_kernel" -v u="$go_uffd_w" -v cu="$c_uffd" -v wp="$go_wp" -v mp="$go_mprotect" -v ch="$c_handler" \
    -v lum="$cold_uffd" -v lmm="$cold_mprotect" -v lup="$prot_uffd" -v lmp="$prot_mprotect" \
    -v luec="$ec_uffd" -v lmec="$ec_mprotect" -v lued="$ed_uffd" -v lmed="$ed_mprotect" 'BEGIN {
  printf "Go uffd fault / kernel first touch            %5.2fx  (target <= 1.7)\n", u / k
  printf "C uffd fault / kernel first touch (the floor) %5.2fx\n", cu / ck
  printf "Go uffd fault / C uffd fault                  %5.2fx\n", u / cu
  printf "Go uffd fault / Go mprotect fault             %5.2fx\n", u / mp
  printf "Go write-protect fault / Go uffd fault        %5.2fx  (target <= 1.2)\n", wp / u
  printf "real mode, uffd / mprotect: cold %.2fx, protection %.2fx, evict-clean %.2fx, evict-dirty %.2fx\n", lum / lmm, lup / lmp, luec / lmec, lued / lmed
}'
