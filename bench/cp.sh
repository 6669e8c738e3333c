#!/usr/bin/env bash
# Copy speed of "vmsim cp" (mmap) against coreutils cp and io.Copy, on one
# file of random bytes, then the same methods in one Go process
# (BenchmarkCopy). Prints the median time of each and its ratio to
# coreutils cp: the figures of docs/performance.md, section "mmap cp".
#
# The page cache is NOT dropped: the source is read from memory in every
# run (it was just written, and 1 GiB fits many times in this machine's
# memory). Before each run the previous copy is removed and "sync" flushes
# dirty pages, so that no run pays for another's writeback. coreutils cp and
# io.Copy do not sync their output; "vmsim cp" msyncs each window (the
# course's msync), "vmsim cp --sync=false" does not.
#
# Usage: bench/cp.sh [SIZE_MIB] [RUNS]     (default 1024 MiB, 5 runs)
# Uses hyperfine if installed (apt-get install -y hyperfine), else a loop.
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
runs=${2:-5}
# A directory on a disk file system, next to the checkout's temporary
# files: /tmp here is the root file system (ext4), not tmpfs.
tmp=$(mktemp -d "${TMPDIR:-/tmp}/vmsim-cp-bench.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

go build -o "$tmp/vmsim" ./cmd/vmsim
echo "writing a $size_mib MiB source file of random bytes in $tmp ($(findmnt -no FSTYPE -T "$tmp" 2>/dev/null || echo '?'))" >&2
head -c "$((size_mib << 20))" /dev/urandom >"$tmp/src"
sync

names=("coreutils cp" "vmsim cp (mmap, msync)" "vmsim cp --sync=false (mmap)" "vmsim cp --method io (io.Copy)")
cmds=(
  "cp $tmp/src $tmp/dst"
  "$tmp/vmsim cp $tmp/src $tmp/dst"
  "$tmp/vmsim cp --sync=false $tmp/src $tmp/dst"
  "$tmp/vmsim cp --method io $tmp/src $tmp/dst"
)
prepare="rm -f $tmp/dst; sync"

# medians[i] is the median wall time of cmds[i], in seconds.
medians=()
if command -v hyperfine >/dev/null; then
  args=()
  for i in "${!cmds[@]}"; do args+=(-n "${names[$i]}" "${cmds[$i]}"); done
  hyperfine --style basic --warmup 1 --runs "$runs" --prepare "$prepare" \
    --export-json "$tmp/hyperfine.json" "${args[@]}" >&2
  mapfile -t medians < <(python3 -c 'import json,sys; [print(r["median"]) for r in json.load(open(sys.argv[1]))["results"]]' "$tmp/hyperfine.json")
  tool="hyperfine, $runs runs after 1 warm-up"
else
  for i in "${!cmds[@]}"; do : >"$tmp/times.$i"; done
  for r in $(seq "$runs"); do # interleaved, so that machine noise hits all alike
    for i in "${!cmds[@]}"; do
      bash -c "$prepare"
      start=$(date +%s%N)
      ${cmds[$i]}
      end=$(date +%s%N)
      echo "$(((end - start) / 1000))e-6" >>"$tmp/times.$i"
    done
    printf '.' >&2
  done
  echo >&2
  for i in "${!cmds[@]}"; do
    medians+=("$(sort -g "$tmp/times.$i" | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}')")
  done
  tool="a loop of $runs interleaved runs"
fi

cmp "$tmp/src" "$tmp/dst" # the last copy is right

echo
echo "$size_mib MiB, page cache warm, median of $tool:"
printf '%-34s %10s %10s %14s\n' command seconds "GiB/s" "time / cp"
for i in "${!cmds[@]}"; do
  awk -v n="${names[$i]}" -v t="${medians[$i]}" -v c="${medians[0]}" -v mib="$size_mib" \
    'BEGIN { printf "%-34s %10.3f %10.2f %14.2f\n", n, t, mib / 1024 / t, t / c }'
done

echo
echo "in one Go process (go test -bench BenchmarkCopy, $runs copies each, the same sync before each):"
VMSIM_CP_BENCH_BYTES=$((size_mib << 20)) go test -run '^$' -bench 'BenchmarkCopy' -benchtime "${runs}x" -count 1 ./vm/mmapcp |
  awk '/^Benchmark/ { sub(/-[0-9]+$/, "", $1); printf "%-50s %10.3f s/op %10.1f MB/s\n", $1, $3 / 1e9, $5 }'
