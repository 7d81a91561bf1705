#!/usr/bin/env bash
# Runs the stress test headless against a list of nodes, as the original Go tool's script did.
#
#   ./run_multinode_test.sh -nodes 127.0.0.1:18555,127.0.0.1:18556 -post-rate 500 -get-rate 1000 [stress-tui flags...]
#   ./run_multinode_test.sh -devnet 4                     # an embedded 4-node devnet instead
#
# The operator key comes from OPERATOR_PRIVATE_KEY or --operator-key-file (never from argv).
# Builds the release binary if needed, then prints where the results are. The exit code is
# stress-tui's: 0 completed, 1 a phase failed or interrupted, 2 bad flags, 3 a threshold failed.
set -euo pipefail
cd "$(dirname "$0")"

nodes="127.0.0.1:18555"
post_rate=100
get_rate=250
devnet=""
rest=()
while [ $# -gt 0 ]; do
  case "$1" in
    -nodes|--nodes) nodes="$2"; shift 2 ;;
    -post-rate|--post-rate) post_rate="$2"; shift 2 ;;
    -get-rate|--get-rate) get_rate="$2"; shift 2 ;;
    -devnet|--devnet) devnet="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) rest+=("$1"); shift ;;
  esac
done

binary=target/release/stress-tui
if [ ! -x "$binary" ] || [ -n "$(find src Cargo.toml Cargo.lock -newer "$binary" -print -quit)" ]; then
  cargo build --release --locked
fi

out="results/$(date -u +%Y%m%dT%H%M%SZ)"
target=(--nodes "$nodes")
if [ -n "$devnet" ]; then target=(--devnet "$devnet"); fi
status=0
"$binary" "${target[@]}" --post-rate "$post_rate" --get-rate "$get_rate" --no-tui --out "$out" "${rest[@]}" || status=$?
echo "results: $out"
exit "$status"
