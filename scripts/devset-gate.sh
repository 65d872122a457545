#!/usr/bin/env bash
# Cleans ../shared/devset/text with the release build and fails when F1, precision or recall fall
# below the floors pinned in quality-floor.txt. Skips, saying so, when ../shared is absent.
set -euo pipefail
cd "$(dirname "$0")/.."
shared=../shared
if [ ! -d "$shared/devset/text" ]; then
  echo "devset gate: SKIPPED ($shared/devset not found; the devset is not part of the repository)"
  exit 0
fi
cargo build --release --locked --quiet
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
start=$(date +%s%N)
./target/release/textsift clean "$shared/devset/text" -o "$out/clean" -q
end=$(date +%s%N)
score=$(python3 "$shared/tools/devset-score.py" "$out/clean" | tail -1)
echo "devset: $score ($(( (end - start) / 1000000 )) ms)"
read -r f1 p r <<<"$(echo "$score" | awk '{print $2, $4, $6}')"
read -r floor_f1 floor_p floor_r <<<"$(grep -v '^#' quality-floor.txt | awk '{print $1, $2, $3}')"
python3 - "$f1" "$p" "$r" "$floor_f1" "$floor_p" "$floor_r" <<'PY'
import sys
f1, p, r, ff1, fp, fr = map(float, sys.argv[1:])
bad = [f"{n} {v:.3f} < floor {f:.3f}" for n, v, f in (("F1", f1, ff1), ("P", p, fp), ("R", r, fr)) if v < f]
if bad:
    print("devset gate: FAILED: " + "; ".join(bad)); sys.exit(1)
print(f"devset gate: ok (floors F1 {ff1:.3f} P {fp:.3f} R {fr:.3f})")
PY
