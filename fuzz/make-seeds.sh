#!/bin/sh
# fuzz/make-seeds.sh - regenerate the seed corpora in fuzz/corpus/ with
# fuzz/make_seeds.c. Run from the repository root when a layout the seeds
# encode changes (ring records, envelopes, the segment header, a harness's
# input layout); commit the result. Creates and removes one shared-memory
# segment, /airsrt.airsrt-fuzz-seed.
set -eu

cd "$(dirname "$0")/.."
out=build/fuzz
mkdir -p "$out"
${CC:-cc} -std=gnu17 -O1 -g -Wall -Wextra -Werror -I. -Iinclude \
    -D_GNU_SOURCE fuzz/make_seeds.c shm/*.c -lbsd -lpthread -lrt \
    -o "$out/make_seeds"
# Only the corpora make_seeds writes: others (fuzz_bench_args) are
# written by hand.
for t in fuzz_address fuzz_ctl_ring fuzz_envelope fuzz_registry \
         fuzz_ring_read fuzz_segment_attach; do
    rm -rf "fuzz/corpus/$t"
done
"$out/make_seeds" fuzz/corpus
find fuzz/corpus -type f | sort | while read -r f; do
    printf '%8d %s\n' "$(wc -c < "$f")" "$f"
done
