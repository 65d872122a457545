#!/usr/bin/env bash
# Times `textsift clean CORPUS -o OUT -q` against `wc -w` over the same files, prints MB/s of
# both, the ratio, textsift's peak RSS and its time by phase (`--stats`).
#
#   cargo run --release --example gen_corpus -- --mb 64 --pages 7000 --out /tmp/c64
#   scripts/bench-vs-wc.sh /tmp/c64 [RUNS]
#
# Uses hyperfine when installed (apt-get install hyperfine), otherwise RUNS plain runs and
# medians. Both commands read the same file list; run once each first so both see a warm cache.
set -euo pipefail
cd "$(dirname "$0")/.."

corpus=${1:?usage: scripts/bench-vs-wc.sh CORPUS_DIR [RUNS]}
runs=${2:-5}
bin=${TEXTSIFT:-target/release/textsift}
[ -x "$bin" ] || cargo build --release --quiet
out=$(mktemp -d "${TMPDIR:-/tmp}/textsift-bench.XXXXXX")
list=$(mktemp "${TMPDIR:-/tmp}/textsift-files.XXXXXX")
trap 'rm -rf "$out" "$list"' EXIT

find "$corpus" -type f -name '*.txt' -print0 | sort -z >"$list"
bytes=$(xargs -0 cat <"$list" | wc -c)
files=$(tr -cd '\0' <"$list" | wc -c)
mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1e6 }')
echo "corpus: $corpus, $files files, $mb MB; $(nproc) cores; load: $(uptime | sed 's/.*load average: //')"

# The previous run's output is removed before each run, outside the timing: deleting
# thousands of files is not part of a clean (it took 24 ms of a 0.7 s run on tmpfs).
clear_cmd="rm -rf '$out/o'"
ts_cmd="'$bin' clean '$corpus' -o '$out/o' -q"
wc_cmd="xargs -0 wc -w <'$list' >/dev/null"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs "$runs" --export-json "$out/h.json" \
        --prepare "$clear_cmd" -n textsift "$ts_cmd" --prepare true -n "wc -w" "$wc_cmd" >&2
    read -r ts wc < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0]["median"], r[1]["median"])' "$out/h.json")
else
    sh -c "$ts_cmd"; sh -c "$wc_cmd"
    for _ in $(seq "$runs"); do
        sh -c "$clear_cmd"
        /usr/bin/time -f %e -o "$out/t" sh -c "$ts_cmd"; cat "$out/t" >>"$out/ts"
        /usr/bin/time -f %e -o "$out/t" sh -c "$wc_cmd"; cat "$out/t" >>"$out/wc"
    done
    ts=$(median <"$out/ts"); wc=$(median <"$out/wc")
fi

# One more run of each for peak RSS and CPU seconds (user + sys), which a loaded machine
# disturbs less than wall-clock time; textsift's with --stats, for its phases.
rm -rf "$out/o"
/usr/bin/time -f "%M %U %S" -o "$out/ts.rss" "$bin" clean "$corpus" -o "$out/o" -q --stats 2>"$out/stats"
/usr/bin/time -f "%M %U %S" -o "$out/wc.rss" sh -c "$wc_cmd"
read -r rss ts_user ts_sys <"$out/ts.rss"
read -r _ wc_user wc_sys <"$out/wc.rss"

awk -v b="$bytes" -v ts="$ts" -v wc="$wc" -v rss="$rss" -v tc="$(echo "$ts_user + $ts_sys" | bc)" \
    -v wcc="$(echo "$wc_user + $wc_sys" | bc)" 'BEGIN {
    printf "%-10s %9s %9s %9s\n", "", "median s", "MB/s", "CPU s"
    printf "%-10s %9.3f %9.1f %9.2f\n", "textsift", ts, b / 1e6 / ts, tc
    printf "%-10s %9.3f %9.1f %9.2f\n", "wc -w", wc, b / 1e6 / wc, wcc
    printf "ratio textsift/wc: %.2fx wall, %.2fx CPU; textsift peak RSS: %.1f MB\n", ts / wc, tc / wcc, rss / 1024
}'
# Where that run's time went (`--stats`): the phase table, without its totals lines.
sed -n '3,$p' "$out/stats"
