#!/usr/bin/env bash
# Render the sample report to a PNG in headless Chromium (installs Chromium on Debian if missing).
#
#   bash benchmarks/render_report.sh [OUT_DIR]      (default: benchmarks/_data/report)
#
# Writes OUT_DIR/report.html (self-contained) and OUT_DIR/report.png (1366 px wide, a laptop screen).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${1:-benchmarks/_data/report}"
mkdir -p "$OUT"

CHROMIUM="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -z "$CHROMIUM" ]; then
  echo "installing chromium (apt-get)..." >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
  CHROMIUM="$(command -v chromium)"
fi

# The sample dataset: a generated, realistic support set with a split manifest.
DATA="$OUT/sample.jsonl"
python3 benchmarks/gen_support_data.py --examples 400 --out "$DATA" --manifest "$OUT/split_manifest.json"
# Prefer the real splitter's manifest (grouped by conversation, stratified by channel) when it is installed.
if python3 -m toolkit split --help >/dev/null 2>&1; then
  python3 -m toolkit split "$DATA" -o "$OUT/splits" --stratify-by channel >/dev/null
  cp "$OUT/splits/split_manifest.json" "$OUT/split_manifest.json"
fi

python3 -m toolkit report "$DATA" -o "$OUT/report.html" --model gpt-4o-mini \
  --manifest "$OUT/split_manifest.json" --prompt-tokens-saved 1200 --requests-per-day 20000 \
  --title "Sample support dataset" --data-json "$OUT/report.json"

start=$(date +%s.%N)
"$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1366,6000 \
  --screenshot="$OUT/report.png" "file://$(realpath "$OUT/report.html")" 2>/dev/null
end=$(date +%s.%N)
python3 - "$OUT/report.png" "$start" "$end" <<'PY'
import struct, sys
png, start, end = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
w, h = struct.unpack(">II", open(png, "rb").read()[16:24])
print(f"rendered {png}: {w}x{h} px in {end - start:.2f} s (headless Chromium)")
PY
