#!/usr/bin/env bash
# Memory of a sustained run: the load generator's RSS every 10 s while it sends payments to a
# 4-node devnet running in its own process (so that the devnet's ledger does not count).
#
#   bench/sustained_rss.sh [DURATION=5m] [POST_RATE=1000] [GET_RATE=3000]
#   STRESS_ARGS="--confirm checkpoints" bench/sustained_rss.sh 10m 2000 3000   # extra flags
#
# Prints the RSS samples (MiB), the value at minute 2 and at the end, and the run's summary.
# Bounded: the run stops itself after DURATION (plus funding and verify); the devnet is killed
# on exit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-5m}"
post_rate="${2:-1000}"
get_rate="${3:-3000}"
port=38555
read -ra extra <<<"${STRESS_ARGS:-}"

work=$(mktemp -d)
# shellcheck source=bench/devnet.sh
source bench/devnet.sh
start_devnet "$port" "$work"
"$binary" --nodes "$nodes" --operator-key-file "$work/operator.key" --no-tui \
  --post-rate "$post_rate" --get-rate "$get_rate" --duration "$duration" --out "$work/results" "${extra[@]}" \
  >"$work/summary.txt" 2>"$work/progress.log" &
run=$!
sample_rss "$run" "$work"
wait "$run" || true
cat "$work/rss.txt"
minute2=$(rss_at_sustained_minute2 "$work")
last=$(awk '$3 == "sustained" {v=$2} END {print v}' "$work/rss.txt")
echo "rss at sustained minute 2: ${minute2:-n/a} MiB; at the end of sustained: ${last:-n/a} MiB"
grep -E "Completed|Failed|Interrupted|^payment|^confirm|transactions:" "$work/summary.txt" || true
echo "files in $work"
