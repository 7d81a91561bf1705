#!/usr/bin/env bash
# Chaos soak: sustained payments over a 4-node devnet (its own process) while nodes are taken
# down and up and errors, lost answers (500 after effect, connections dropped after effect,
# answers cut in half) and latency are injected at random through the devnet's admin API.
#
#   bench/chaos_soak.sh [DURATION=10m] [POST_RATE=400] [GET_RATE=1600]
#
# Passes when: the run exits 0 (completed, verify found every balance right), nothing
# panicked, and the load generator's peak RSS during the sustained phase is within 10% of its
# RSS at sustained minute 2. Bounded: the run stops itself after DURATION (plus funding and
# verify); the chaos loop stops with it; the devnet is killed on exit. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/.."
duration="${1:-10m}"
post_rate="${2:-400}"
get_rate="${3:-1600}"
port="${CHAOS_PORT:-48555}"

work=$(mktemp -d)
# shellcheck source=bench/devnet.sh
source bench/devnet.sh
start_devnet "$port" "$work"
"$binary" --nodes "$nodes" --operator-key-file "$work/operator.key" --no-tui \
  --post-rate "$post_rate" --get-rate "$get_rate" --duration "$duration" --in-flight-per-account 4 \
  --request-timeout 2s --out "$work/results" >"$work/summary.txt" 2>"$work/progress.log" &
run=$!

# Chaos: every 5-15 s, one random change on one random node; at most two nodes down at once.
chaos() {
  local down=()
  while kill -0 "$run" 2>/dev/null; do
    sleep $((5 + RANDOM % 11))
    grep -q "sustained" "$work/progress.log" 2>/dev/null || continue
    local node=$((RANDOM % 4)) change
    case $((RANDOM % 5)) in
      0) if [ "${#down[@]}" -lt 2 ] && [[ ! " ${down[*]} " =~ " $node " ]]; then change='{"down":true}'; down+=("$node"); else continue; fi ;;
      1) change='{"down":false}'; down=("${down[@]/$node}"); down=(${down[@]}) ;;
      2) change="{\"error_ratio\":0.$((RANDOM % 4))}" ;;
      3) change="{\"latency_ms\":$((RANDOM % 200)),\"lose_ratio\":0.0$((RANDOM % 10)),\"reset_ratio\":0.0$((RANDOM % 10)),\"half_answer_ratio\":0.0$((RANDOM % 10))}" ;;
      4) change='{"error_ratio":0,"latency_ms":0,"lose_ratio":0,"garbage_ratio":0,"reset_ratio":0,"half_answer_ratio":0}' ;;
    esac
    curl -s -XPOST "$admin/nodes/$node" -d "$change" >/dev/null || true
    echo "$(date +%T) node $node $change" >>"$work/chaos.log"
  done
}
chaos &
chaos_pid=$!

sample_rss "$run" "$work"
status=0
wait "$run" || status=$?
wait "$chaos_pid" 2>/dev/null || true

minute2=$(rss_at_sustained_minute2 "$work")
peak=$(awk '$3 == "sustained" && $2 > m {m = $2} END {print m + 0}' "$work/rss.txt")
changes=$(wc -l <"$work/chaos.log" 2>/dev/null || echo 0)
echo "chaos changes: $changes; exit code: $status"
echo "rss at sustained minute 2: ${minute2:-n/a} MiB; sustained peak: $peak MiB"
grep -E "summary|verify:|transactions:|errors by code" "$work/summary.txt" || true
curl -s "$admin/stats" 2>/dev/null | sed 's/^/devnet ledger: /' || true
verdict=pass
[ "$status" -eq 0 ] || verdict=fail
grep -q "panicked" "$work/progress.log" "$work/devnet.log" && verdict=fail
if [ -n "${minute2:-}" ] && [ "$minute2" -gt 0 ] && [ $(( peak * 10 )) -gt $(( minute2 * 11 )) ]; then verdict=fail; fi
echo "chaos soak: $verdict (files in $work)"
[ "$verdict" = pass ]
