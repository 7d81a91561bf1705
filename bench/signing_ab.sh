#!/usr/bin/env bash
# Interleaved A/B of one signed payment's cost on the two write surfaces (criterion,
# `benches/signing.rs`): each round runs `signed_payment_body/v1` and `/v2` once, alternating
# which goes first, so that the machine's drift falls on both alike; prints each round's
# criterion estimates, the v2/v1 ratio per round and the median ratio. Pinned to core 0.
#
#   bench/signing_ab.sh [ROUNDS]        # default 8 rounds of 2 x ~6 s
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-8}"
cargo bench --locked --bench signing --no-run >/dev/null 2>&1
estimate() {
  taskset -c 0 cargo bench --locked --bench signing -- "signed_payment_body/$1\$" \
    --warm-up-time 1 --measurement-time 4 2>/dev/null |
    awk '/time:/ { gsub(/\[|\]/, ""); for (i = 1; i <= NF; i++) if ($i == "time:") { v = $(i + 3); u = $(i + 4) } }
         END { if (u == "ns") v /= 1000; if (u == "ms") v *= 1000; print v }'
}
ratios=()
for i in $(seq "$rounds"); do
  if [ $((i % 2)) -eq 1 ]; then v1=$(estimate v1); v2=$(estimate v2); else v2=$(estimate v2); v1=$(estimate v1); fi
  ratio=$(python3 -c "print(f'{$v2 / $v1:.3f}')")
  ratios+=("$ratio")
  echo "round $i: v1 ${v1} µs, v2 ${v2} µs, v2/v1 ${ratio}"
done
python3 -c "import statistics,sys; r=sorted(map(float,sys.argv[1:])); print(f'median v2/v1 {statistics.median(r):.3f} (range {r[0]:.3f}-{r[-1]:.3f}) over {len(r)} rounds')" "${ratios[@]}"
