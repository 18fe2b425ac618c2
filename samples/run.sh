#!/usr/bin/env bash
# The main job on the bundled samples: convert every raw export to OpenAI chat fine-tuning
# JSONL, validate it, lint it, route knowledge to RAG, split the rest without leakage,
# and write stats, cost and an HTML report.
#
#   bash samples/run.sh OUTDIR        (run from anywhere, after `pip install -e .`)
#
# OUTDIR gets one .jsonl per sample, all.jsonl (everything together), skipped.jsonl (every
# record that was not converted, with its reason) and the lint / route results.
set -euo pipefail

OUT="${1:?usage: bash samples/run.sh OUTDIR}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(dirname "$HERE")"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
cd "$ROOT"  # provenance in the outputs then reads samples/raw/...

FTKIT=(python3 -m toolkit)
if command -v ftkit >/dev/null 2>&1; then FTKIT=(ftkit); fi

RAW=samples/raw
VOICE="You are a friendly, concise customer support agent. Apologise once, then solve the problem."

convert() {  # convert NAME ARGS...: one sample to OUT/NAME.jsonl
  local name="$1"; shift
  echo "== $name"
  "${FTKIT[@]}" convert --isolated --to openai --system-prompt "$VOICE" --skipped "$OUT/$name.skipped.jsonl" \
    -o "$OUT/$name.jsonl" "$@"
}

convert zendesk_ticket_4521_comments --from zendesk "$RAW/zendesk_ticket_4521_comments.json"
convert zendesk_audits      --from zendesk "$RAW/zendesk_audits.json" --users "$RAW/zendesk_users.json"
convert zendesk_incremental --from zendesk "$RAW/zendesk_incremental.jsonl"
convert zendesk_tickets     --from zendesk "$RAW/zendesk_tickets.json"
convert intercom            --from intercom "$RAW/intercom_conversations.json"
convert freshdesk           --from freshdesk "$RAW/freshdesk_tickets.json" "$RAW/freshdesk_conversations_3302.json" \
                            "$RAW/freshdesk_satisfaction_ratings.json"
convert chat_transcripts    --from transcript "$RAW/chat_transcripts.txt" --agent Eric --agent Priya --agent Sarah
convert chat_transcript_html --from transcript "$RAW/chat_transcript.html" --agent Noor --agent "Agent Tom"
convert messages_csv        --from table "$RAW/messages.csv"
convert messages_parquet    --from table "$RAW/messages.parquet"
convert messages_threads    --from table "$RAW/messages_threads.csv"
convert openai_chat         --from openai "$RAW/openai_chat.jsonl"
convert sharegpt            --from sharegpt "$RAW/sharegpt.json"
convert alpaca              --from alpaca "$RAW/alpaca.json"

# Everything in one training file (the skipped records of every run in one report).
# messages.parquet holds the same rows as messages.csv, so only the CSV's examples go in.
SAMPLES=(zendesk_ticket_4521_comments zendesk_audits zendesk_incremental zendesk_tickets intercom freshdesk
         chat_transcripts chat_transcript_html messages_csv messages_threads openai_chat sharegpt alpaca)
rm -f "$OUT/messages_parquet.skipped.jsonl"
: > "$OUT/all.jsonl.tmp"
: > "$OUT/skipped.jsonl.tmp"
for name in "${SAMPLES[@]}"; do
  cat "$OUT/$name.jsonl" >> "$OUT/all.jsonl.tmp"
  cat "$OUT/$name.skipped.jsonl" >> "$OUT/skipped.jsonl.tmp"
  rm -f "$OUT/$name.skipped.jsonl"
done
mv "$OUT/all.jsonl.tmp" "$OUT/all.jsonl"
mv "$OUT/skipped.jsonl.tmp" "$OUT/skipped.jsonl"

echo "== validate"
"${FTKIT[@]}" validate --format openai "$OUT/all.jsonl"

echo "== lint"
# Findings are expected on real support data (that is the point); they do not stop the job.
"${FTKIT[@]}" lint --isolated --statistics "$OUT/all.jsonl" > "$OUT/lint.txt" || true
tail -n 25 "$OUT/lint.txt"

echo "== route (behavior to fine-tune on, knowledge to RAG)"
"${FTKIT[@]}" route "$OUT/all.jsonl" -o "$OUT/routed"

echo "== split (leak-free train/validation/test of the behavior examples)"
"${FTKIT[@]}" split "$OUT/routed/behavior.jsonl" -o "$OUT/splits"
"${FTKIT[@]}" leakage "$OUT/splits/train.jsonl" "$OUT/splits/validation.jsonl" "$OUT/splits/test.jsonl"

echo "== stats and cost (estimates)"
"${FTKIT[@]}" stats --model gpt-4o-mini "$OUT/all.jsonl"

echo "== report"
"${FTKIT[@]}" report --model gpt-4o-mini --manifest "$OUT/splits/split_manifest.json" --kb samples/kb \
  -o "$OUT/report.html" "$OUT/all.jsonl"

echo "done: $OUT (open $OUT/report.html)"
