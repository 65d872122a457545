#!/usr/bin/env bash
# Counts the instructions `textsift clean` executes on a corpus, with one thread, under
# valgrind's callgrind (apt-get install valgrind), for one build or several side by side:
#
#   scripts/bench-instructions.sh /tmp/c64/d0000 target/release/textsift /tmp/textsift-before
#
# On a VM whose speed swings by 10-20% from one run to the next, the count tells a change of a
# few percent that timings cannot; it does not see cache misses or mispredicted branches (add
# --branch-sim=yes to CALLGRIND_ARGS for an estimate of those). A corpus of a few MB (one
# folder of gen_corpus's output, 500 pages) takes about ten seconds a build.
set -euo pipefail

corpus=${1:?usage: scripts/bench-instructions.sh CORPUS BINARY [BINARY...]}
shift
[ $# -gt 0 ] || set -- target/release/textsift
command -v valgrind >/dev/null || { echo "valgrind is not installed (apt-get install valgrind)" >&2; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/textsift-instructions.XXXXXX")
trap 'rm -rf "$work"' EXIT

printf '%-40s %16s\n' "build" "instructions"
for bin in "$@"; do
    rm -rf "$work/out"
    # shellcheck disable=SC2086 # CALLGRIND_ARGS is a list of options
    valgrind --tool=callgrind ${CALLGRIND_ARGS:-} --callgrind-out-file="$work/callgrind.out" \
        "$bin" clean "$corpus" -o "$work/out" -q -j 1 2>"$work/log"
    count=$(sed -n 's/^==[0-9]*== Collected : \([0-9]*\).*/\1/p' "$work/log")
    printf '%-40s %16s\n' "$bin" "$count"
    grep -E "Mispredicts" "$work/log" | sed 's/^==[0-9]*== */    /' || true
done
