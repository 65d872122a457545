#!/usr/bin/env bash
# Times `textsift clean CORPUS -o OUT -q` against `wc -w` over the same files, prints MB/s of
# both, the ratio, and textsift's peak RSS.
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

ts_cmd="rm -rf '$out/o' && '$bin' clean '$corpus' -o '$out/o' -q"
wc_cmd="xargs -0 wc -w <'$list' >/dev/null"

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

if command -v hyperfine >/dev/null; then
    hyperfine --warmup 1 --runs "$runs" --export-json "$out/h.json" -n textsift "$ts_cmd" -n "wc -w" "$wc_cmd" >&2
    read -r ts wc < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0]["median"], r[1]["median"])' "$out/h.json")
else
    sh -c "$ts_cmd"; sh -c "$wc_cmd"
    for _ in $(seq "$runs"); do
        /usr/bin/time -f %e -o "$out/t" sh -c "$ts_cmd"; cat "$out/t" >>"$out/ts"
        /usr/bin/time -f %e -o "$out/t" sh -c "$wc_cmd"; cat "$out/t" >>"$out/wc"
    done
    ts=$(median <"$out/ts"); wc=$(median <"$out/wc")
fi

rm -rf "$out/o"
/usr/bin/time -f %M -o "$out/rss" "$bin" clean "$corpus" -o "$out/o" -q
rss=$(cat "$out/rss")

awk -v b="$bytes" -v ts="$ts" -v wc="$wc" -v rss="$rss" 'BEGIN {
    printf "%-10s %9s %9s\n", "", "median s", "MB/s"
    printf "%-10s %9.3f %9.1f\n", "textsift", ts, b / 1e6 / ts
    printf "%-10s %9.3f %9.1f\n", "wc -w", wc, b / 1e6 / wc
    printf "ratio textsift/wc: %.2fx; textsift peak RSS: %.1f MB\n", ts / wc, rss / 1024
}'
