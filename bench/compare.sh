#!/usr/bin/env bash
# stress-tui side by side with oha (and wrk for the closed-loop ceiling) on the same loopback
# server, in the same run: the generator pinned to core 0, a trivial nginx (bench/sink.sh) to
# core 1. Installs what is missing (nginx, wrk, time from Debian; oha from crates.io).
#
#   bench/compare.sh                         # 3 runs of 10 s each: about 15 minutes
#   RUNS=1 SECS=5 bench/compare.sh           # a quick look
#   GET_RATES="20000" PAY_RATES="" MAX_PAY_STEPS="" bench/compare.sh
#
# Measures, per rate: achieved/target, CPU seconds per 1,000 requests, peak RSS and (stress-tui
# only: oha does not report it) the p99 of the send-time error, for
#   1. GETs at fixed rates (stress-tui --post-rate 0, the read-only workload; oha -q);
#   2. signed payments at fixed rates (stress-tui's sustained phase, confirmed by receipts and
#      by checkpoints; oha POSTing a payment body of the same size), CPU per payment against
#      CPU per POST;
#   3. the highest signed-payment rate stress-tui sustains on its core at >= 99 % of target
#      (confirmed by checkpoints; MAX_PAY_CONFIRM=receipts for the other way);
# and the closed-loop ceiling of wrk and oha (50 connections) for context. Every load is bounded
# (SECS each) and goes to 127.0.0.1 only. Writes the raw outputs under target/bench-compare/ and
# the tables into BENCHMARKS.md (between the generated-section markers).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${RUNS:-3}"
secs="${SECS:-10}"
get_rates="${GET_RATES-1000 5000 20000}"
pay_rates="${PAY_RATES-1000 5000}"
max_pay_steps="${MAX_PAY_STEPS-5000 10000 15000 20000}"
max_pay_confirm="${MAX_PAY_CONFIRM:-checkpoints}"
port="${SINK_PORT:-48600}"
gen_core=0
sink_core=1

if ! command -v nginx >/dev/null || ! command -v wrk >/dev/null || [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq nginx wrk time >/dev/null
fi
command -v oha >/dev/null || cargo install oha --locked
if [ -n "${STRESS_TUI_BINARY:-}" ]; then
  binary="$STRESS_TUI_BINARY"
else
  cargo build --release --locked >/dev/null 2>&1 || cargo build --release --locked
  binary=target/release/stress-tui
fi

raw="$PWD/target/bench-compare/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$raw"
# shellcheck source=bench/sink.sh
source bench/sink.sh
start_sink "$port" "$raw" "$sink_core"
url="http://127.0.0.1:$port"
read_path="/v1/accounts/nonce?address=0x8ba1f109551bD432803012645Ac136ddd64DBA72"
# Any 32-byte key: the sink checks no signature.
python3 -c 'import secrets; print(secrets.token_hex(32))' >"$raw/operator.key"
# A payment body of the size stress-tui sends (the sink does not read it).
payment_body='{"chain_id":1212101,"nonce":17,"recipient":"0x8ba1f109551bd432803012645ac136ddd64dba72","value":"1","token":"0x2d7ed8b2c4b1e0e4f8d1fa1d6c1f2b3a4c5d6e7f","signature":{"r":"0x3b8f7a1c9d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8","s":"0x1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80","v":1}}'

# stress NAME ARGS...: stress-tui on the generator core; it reports its own CPU per phase and
# peak RSS in NAME.out/summary.json. Against the sink the verify phase cannot match (every
# balance reads 0): the run ends "failed" after three reads of each wallet, as designed.
stress() {
  local name="$1"
  shift
  taskset -c "$gen_core" "$binary" --nodes "127.0.0.1:$port" --no-tui --out "$raw/$name.out" "$@" \
    >"$raw/$name.stdout" 2>"$raw/$name.stderr" || true
}

# timed NAME CMD...: runs CMD on the generator core; NAME.time gets "wall user sys maxrss_kib".
timed() {
  local name="$1"
  shift
  /usr/bin/time -f '%e %U %S %M' -o "$raw/$name.time" taskset -c "$gen_core" "$@" \
    >"$raw/$name.stdout" 2>"$raw/$name.stderr" || true
}

echo "raw outputs in $raw" >&2
for rate in $get_rates; do
  for i in $(seq "$runs"); do
    echo "GET $rate/s, run $i: stress-tui, oha" >&2
    stress "st-get-$rate-$i" --post-rate 0 --get-rate "$rate" --duration "${secs}s"
    timed "oha-get-$rate-$i" oha -z "${secs}s" -q "$rate" -c 50 --no-tui --output-format json \
      "$url$read_path"
  done
done
for rate in $pay_rates; do
  for i in $(seq "$runs"); do
    echo "payments $rate/s, run $i: stress-tui (receipts, checkpoints), oha POST" >&2
    for confirm in receipts checkpoints; do
      stress "st-pay-$confirm-$rate-$i" --operator-key-file "$raw/operator.key" --post-rate "$rate" \
        --get-rate $((rate * 3 / 2 + 500)) --duration "${secs}s" --confirm "$confirm" \
        --mint-wallets 20 --transfers-per-mint 10 --in-flight-per-account 64
    done
    timed "oha-post-$rate-$i" oha -z "${secs}s" -q "$rate" -c 50 --no-tui --output-format json \
      -m POST -T application/json -d "$payment_body" "$url/v1/transactions/payment"
  done
done
for rate in $max_pay_steps; do
  echo "highest payment rate: trying $rate/s" >&2
  stress "st-max-$rate" --operator-key-file "$raw/operator.key" --post-rate "$rate" \
    --get-rate $((rate * 3 / 2 + 500)) --duration "${secs}s" --confirm "$max_pay_confirm" \
    --mint-wallets 20 --transfers-per-mint 10 --in-flight-per-account 64
done
echo "$max_pay_confirm" >"$raw/max-pay-confirm" 
for i in $(seq "$runs"); do
  echo "closed loop, run $i: wrk, oha" >&2
  timed "wrk-max-$i" wrk -t1 -c50 -d"${secs}s" "$url$read_path"
  timed "oha-max-$i" oha -z "${secs}s" -c 50 --no-tui --output-format json "$url$read_path"
done

python3 bench/compare_report.py "$raw" "$secs" "$runs" \
  "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(uname -r)" \
  "$(oha --version), $(nginx -v 2>&1 | cut -d' ' -f3), $("$binary" --version)" >"$raw/tables.md"
python3 - "$raw/tables.md" <<'EOF'
import sys
tables = open(sys.argv[1]).read()
begin, end = "<!-- bench/compare.sh: begin -->", "<!-- bench/compare.sh: end -->"
doc = open("BENCHMARKS.md").read()
head, rest = doc.split(begin, 1)
_, tail = rest.split(end, 1)
open("BENCHMARKS.md", "w").write(head + begin + "\n" + tables + end + tail)
EOF
cat "$raw/tables.md"
