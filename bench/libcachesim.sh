#!/usr/bin/env bash
# vmsim against libCacheSim (the research cache simulator, C) on the same
# trace, end to end: each command is a whole process (read the file, decode,
# simulate, print). The trace is Zipf(1.0) over 1 M ids, 20 M requests, made
# by vmsim gen: as text (one id a line, which is both vmsim's pages format and
# libCacheSim's txt), as libCacheSim's oracleGeneral binary (written by
# vmsim convert, 1-based like libCacheSim's traceConv) and as vmsim's vmt
# (converted once from the oracle file). Cache: 100,000 objects.
#
# For each policy the commands run in pairs, interleaved (the order flips
# every round), and the figure is the median over the rounds of the pair's
# ratio: vmsim's speed over libCacheSim's, higher is better. The miss ratios
# of both are compared to four decimals.
#
# libCacheSim is built from source, in a temporary directory, when
# LIBCACHESIM_SRC names a source tree of https://github.com/1a1a11a/libCacheSim
# (Debian packages: cmake libglib2.0-dev libzstd-dev). Otherwise, or if it
# does not build, the script says so and prints vmsim's figures alone.
#
# Usage: [LIBCACHESIM_SRC=DIR] bench/libcachesim.sh [REQUESTS] [ROUNDS]
#        (default 20000000 requests, 5 rounds; FRAMES=100000, PAGES=1000000;
#        POLICIES="lru sieve" for some policies only, TEXT=0 to skip the
#        text table, EXTRAS=0 the sweep and miss-ratio-curve figures,
#        ONLY=text for the text table alone)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-20000000}
rounds=${2:-5}
frames=${FRAMES:-100000}
pages=${PAGES:-1000000}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go build -o "$tmp/vmsim" ./cmd/vmsim
v="$tmp/vmsim"
# cachesim writes its results into the current directory: work in $tmp.
if [ -n "${LIBCACHESIM_SRC:-}" ] && [ -d "$LIBCACHESIM_SRC" ]; then
  LIBCACHESIM_SRC=$(cd "$LIBCACHESIM_SRC" && pwd)
fi
cd "$tmp"

# libCacheSim, if we can have it.
cachesim="" profiler=""
if [ -z "${LIBCACHESIM_SRC:-}" ]; then
  echo "LIBCACHESIM_SRC is not set: vmsim's figures alone. To compare, clone" >&2
  echo "https://github.com/1a1a11a/libCacheSim, install cmake libglib2.0-dev libzstd-dev," >&2
  echo "and run LIBCACHESIM_SRC=/path/to/libCacheSim $0" >&2
elif [ ! -f "$LIBCACHESIM_SRC/CMakeLists.txt" ]; then
  echo "LIBCACHESIM_SRC=$LIBCACHESIM_SRC is not a libCacheSim source tree: vmsim's figures alone" >&2
else
  echo "building libCacheSim from $LIBCACHESIM_SRC in a temporary directory..." >&2
  mkdir "$tmp/lcs"
  tar -C "$LIBCACHESIM_SRC" --exclude=./.git --exclude=./data --exclude=./_build -cf - . | tar -C "$tmp/lcs" -xf -
  if (cmake -S "$tmp/lcs" -B "$tmp/lcs/_build" -DCMAKE_BUILD_TYPE=Release &&
      make -C "$tmp/lcs/_build" -j"$(nproc)" cachesim libCacheSim) >"$tmp/lcs.log" 2>&1; then
    cachesim="$tmp/lcs/_build/bin/cachesim"
    # The exact miss-ratio curve: libCacheSim's profilerLRU, through a
    # driver of a few lines.
    cat >"$tmp/mrc.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include "libCacheSim.h"
int main(int argc, char **argv) {
  reader_init_param_t params = default_reader_init_params();
  params.ignore_obj_size = true;
  reader_t *reader = setup_reader(argv[1], ORACLE_GENERAL_TRACE, &params);
  long size = atol(argv[2]);
  double *mr = get_lru_obj_miss_ratio(reader, size);
  printf("%ld %.6f\n", size, mr[size]);
  return 0;
}
EOF
    if gcc -O2 -o "$tmp/profilerLRU" "$tmp/mrc.c" -I"$tmp/lcs/libCacheSim/include" -I"$tmp/lcs/_build" \
      "$tmp/lcs/_build/liblibCacheSim.a" $(pkg-config --cflags --libs glib-2.0) -lzstd -lm -lpthread >>"$tmp/lcs.log" 2>&1; then
      profiler="$tmp/profilerLRU"
    else
      echo "the profilerLRU driver did not build (tail of the log below): no mrc comparison" >&2
      tail -5 "$tmp/lcs.log" >&2
    fi
  else
    echo "libCacheSim did not build (tail of the log below): vmsim's figures alone" >&2
    tail -15 "$tmp/lcs.log" >&2
  fi
fi

echo "generating $n requests (zipf 1.0 over $pages ids)..." >&2
"$v" gen zipf --n "$n" --pages "$pages" --alpha 1.0 --seed 1 -o "$tmp/t.txt"
# libCacheSim runs Belady only on a file whose name says oracleGeneral.
"$v" convert "$tmp/t.txt" "$tmp/t.oracleGeneral.bin" --to oracle
"$v" convert "$tmp/t.oracleGeneral.bin" "$tmp/t.vmt" --to vmt

# run OUT CMD...: run CMD with its output in OUT; print its wall time in
# seconds.
run() {
  local out=$1 t0 t1
  shift
  t0=$(date +%s%N)
  if ! "$@" >"$out" 2>&1; then
    echo "failed: $*" >&2
    tail -5 "$out" >&2
    exit 1
  fi
  t1=$(date +%s%N)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.4f\n", (b - a) / 1e9 }'
}
median() { sort -g | awk '{a[NR]=$1} END {m = (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2; printf "%.3g\n", m}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f\n", a / b }'; }
mps() { awk -v n="$n" -v s="$1" 'BEGIN { printf "%.1f", n / s / 1e6 }'; }
# vmsim's miss ratio (faults / accesses) of the first row of CSV output.
vmsim_mr() { awk -F, 'NR == 2 { printf "%.4f", $9 / $5 }' "$1"; }
# cachesim's miss ratio of its last result line.
lcs_mr() { grep -o 'miss ratio [0-9.]*' "$1" | tail -1 | awk '{print $3}'; }

lcsargs=(--ignore-obj-size 1 --report-interval 1000000000)

echo "# $(date -u +%Y-%m-%d), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# $n requests, zipf 1.0 over $pages ids, cache $frames; $rounds rounds, pairs interleaved, medians"
if [ "${ONLY:-}" = text ]; then
  :
elif [ -n "$cachesim" ]; then
  echo "| policy | vmsim oracle, M req/s | vmsim vmt, M req/s | libCacheSim oracle, M req/s | oracle / libCacheSim | vmt / libCacheSim | miss ratio vmsim / libCacheSim |"
  echo "|---|---:|---:|---:|---:|---:|---|"
else
  echo "| policy | vmsim oracle, M req/s | vmsim vmt, M req/s |"
  echo "|---|---:|---:|"
fi
pairs="lru:LRU fifo:FIFO clock-cold:Clock sieve:Sieve s3fifo:S3FIFO arc:ARC opt:Belady"
# wanted POLICY: whether POLICIES (if set) asks for POLICY.
wanted() { [ -z "${POLICIES:-}" ] || [[ " $POLICIES " == *" $1 "* ]]; }
for pair in $pairs; do
  p=${pair%%:*} c=${pair##*:}
  if ! wanted "$p" || [ "${ONLY:-}" = text ]; then
    continue
  fi
  : >"$tmp/vo" >"$tmp/vv" >"$tmp/lo" >"$tmp/ro" >"$tmp/rv"
  for r in $(seq "$rounds"); do
    vcmd=("$v" replay -o csv -p "$p" -f "$frames")
    if [ -z "$cachesim" ]; then
      run "$tmp/o1" "${vcmd[@]}" "$tmp/t.oracleGeneral.bin" >>"$tmp/vo"
      run "$tmp/o2" "${vcmd[@]}" "$tmp/t.vmt" >>"$tmp/vv"
      continue
    fi
    if [ $((r % 2)) = 1 ]; then
      a=$(run "$tmp/o1" "${vcmd[@]}" "$tmp/t.oracleGeneral.bin")
      l=$(run "$tmp/o3" "$cachesim" "$tmp/t.oracleGeneral.bin" oracleGeneral "$c" "$frames" "${lcsargs[@]}")
      b=$(run "$tmp/o2" "${vcmd[@]}" "$tmp/t.vmt")
    else
      b=$(run "$tmp/o2" "${vcmd[@]}" "$tmp/t.vmt")
      l=$(run "$tmp/o3" "$cachesim" "$tmp/t.oracleGeneral.bin" oracleGeneral "$c" "$frames" "${lcsargs[@]}")
      a=$(run "$tmp/o1" "${vcmd[@]}" "$tmp/t.oracleGeneral.bin")
    fi
    echo "$a" >>"$tmp/vo"
    echo "$b" >>"$tmp/vv"
    echo "$l" >>"$tmp/lo"
    ratio "$l" "$a" >>"$tmp/ro"
    ratio "$l" "$b" >>"$tmp/rv"
  done
  vo=$(median <"$tmp/vo") vv=$(median <"$tmp/vv")
  if [ -z "$cachesim" ]; then
    echo "| $p | $(mps "$vo") | $(mps "$vv") |"
    continue
  fi
  lo=$(median <"$tmp/lo")
  mv=$(vmsim_mr "$tmp/o1") ml=$(lcs_mr "$tmp/o3")
  same="differ"
  [ "$mv" = "$ml" ] && same="equal"
  echo "| $p ($c) | $(mps "$vo") | $(mps "$vv") | $(mps "$lo") | **$(median <"$tmp/ro")** | $(median <"$tmp/rv") | $mv / $ml, $same |"
done

# The text formats: vmsim's pages and libCacheSim's txt are the same file
# (one id a line). libCacheSim has no next accesses in txt: it runs no
# Belady on it, and neither is opt measured here.
if [ -n "$cachesim" ] && [ "${TEXT:-1}" = 1 ]; then
  echo
  echo "| policy | vmsim pages, M req/s | libCacheSim txt, M req/s | **pages / libCacheSim** | miss ratio vmsim / libCacheSim |"
  echo "|---|---:|---:|---:|---|"
  for pair in $pairs; do
    p=${pair%%:*} c=${pair##*:}
    if ! wanted "$p" || [ "$p" = opt ]; then
      continue
    fi
    : >"$tmp/vt" >"$tmp/lt" >"$tmp/rt"
    for r in $(seq "$rounds"); do
      vcmd=("$v" replay -o csv -p "$p" -f "$frames" --format pages "$tmp/t.txt")
      lcmd=("$cachesim" "$tmp/t.txt" txt "$c" "$frames" "${lcsargs[@]}")
      if [ $((r % 2)) = 1 ]; then
        a=$(run "$tmp/o1" "${vcmd[@]}")
        l=$(run "$tmp/o3" "${lcmd[@]}")
      else
        l=$(run "$tmp/o3" "${lcmd[@]}")
        a=$(run "$tmp/o1" "${vcmd[@]}")
      fi
      echo "$a" >>"$tmp/vt"
      echo "$l" >>"$tmp/lt"
      ratio "$l" "$a" >>"$tmp/rt"
    done
    mv=$(vmsim_mr "$tmp/o1") ml=$(lcs_mr "$tmp/o3")
    same="differ"
    [ "$mv" = "$ml" ] && same="equal"
    echo "| $p ($c) | $(mps "$(median <"$tmp/vt")") | $(mps "$(median <"$tmp/lt")") | **$(median <"$tmp/rt")** | $mv / $ml, $same |"
  done
fi

if [ "${EXTRAS:-1}" = 0 ] || [ "${ONLY:-}" = text ]; then
  echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
  exit 0
fi

# text, a 10-size LRU sweep, the exact miss-ratio curve
step=$((frames / 10))
sizes=$(seq -s, "$step" "$step" "$frames")
: >"$tmp/rs" >"$tmp/rm" >"$tmp/vs" >"$tmp/vm"
for r in $(seq "$rounds"); do
  b=$(run "$tmp/o2" "$v" replay -p lru -f "$step:$frames:$step" "$tmp/t.oracleGeneral.bin")
  m=$(run "$tmp/o4" "$v" mrc -o csv -f "$frames" "$tmp/t.oracleGeneral.bin")
  echo "$b" >>"$tmp/vs"
  echo "$m" >>"$tmp/vm"
  if [ -n "$cachesim" ]; then
    ratio "$(run "$tmp/o5" "$cachesim" "$tmp/t.oracleGeneral.bin" oracleGeneral LRU "$sizes" --num-thread 2 "${lcsargs[@]}")" "$b" >>"$tmp/rs"
    if [ -n "$profiler" ]; then
      ratio "$(run "$tmp/o6" "$profiler" "$tmp/t.oracleGeneral.bin" "$frames")" "$m" >>"$tmp/rm"
    fi
  fi
done
vs=$(median <"$tmp/vs") vm=$(median <"$tmp/vm")
echo
if [ -n "$cachesim" ]; then
  echo "10-size LRU sweep ($sizes), oracle: vmsim $vs s, $(median <"$tmp/rs")x cachesim on 2 threads"
else
  echo "10-size LRU sweep ($sizes), oracle: vmsim $vs s"
fi
if [ -n "$profiler" ]; then
  echo "exact LRU miss-ratio curve, oracle: vmsim mrc $vm s, $(median <"$tmp/rm")x the profilerLRU of libCacheSim"
  echo "  miss ratio at $frames: vmsim $(awk -F, 'NR == 2 { print $4 }' "$tmp/o4"), profilerLRU $(awk '{ print $2 }' "$tmp/o6")"
else
  echo "exact LRU miss-ratio curve, oracle: vmsim mrc $vm s"
fi
echo "# load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
