#!/usr/bin/env bash
# Interleaved A/B of stress-tui builds on the same loopback sink, in the same run: each round
# runs every binary once per rate, in turn, so that the machine's noise falls on all of them
# alike. The generator is pinned to core 0, nginx (bench/sink.sh) to core 1; oha's POST (or GET)
# at the same rate is measured in each round as the peer.
#
#   bench/ab.sh BINARY [BINARY ...]                    # payments at 5,000/s, 3 rounds of 10 s
#   MODE=get RATES="5000 20000" bench/ab.sh old new    # the read-only workload instead
#   RUNS=5 SECS=10 RATES="5000 10000" bench/ab.sh a b
#   PEER=none bench/ab.sh v1-wrapper v2-wrapper     # builds only, without oha
#
# A "binary" may be a wrapper script that adds flags, e.g. to set one build against itself
# with `--confirm checkpoints`:  printf '#!/bin/sh\nexec %s "$@" --confirm checkpoints\n' BIN
#
# Prints, per rate and binary, the medians (and ranges) of achieved/target, CPU per request (per
# payment in MODE=pay: the sustained phase's CPU from summary.json), the send-time error p99,
# the ratio of CPU to the first binary's and, for payments, that CPU split into the signer
# thread's (`signing_cpu_s`) and the rest (sending, answers, books), the part to set against
# oha's POST. Raw outputs under target/bench-ab/. Every load is
# bounded (SECS each) and goes to 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/ab.sh BINARY [BINARY ...]" >&2; exit 2; }
mode="${MODE:-pay}"
runs="${RUNS:-3}"
secs="${SECS:-10}"
rates="${RATES:-5000}"
port="${SINK_PORT:-48610}"
case "$mode" in pay | get) ;; *) echo "MODE is pay or get, not $mode" >&2; exit 2 ;; esac

if ! command -v nginx >/dev/null || [ ! -x /usr/bin/time ]; then
  apt-get update -qq && apt-get install -y -qq nginx time >/dev/null
fi
peer="${PEER:-oha}"
case "$peer" in oha | none) ;; *) echo "PEER is oha or none, not $peer" >&2; exit 2 ;; esac
[ "$peer" = none ] || command -v oha >/dev/null || cargo install oha --locked

raw="$PWD/target/bench-ab/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$raw"
# shellcheck source=bench/sink.sh
source bench/sink.sh
start_sink "$port" "$raw" 1
url="http://127.0.0.1:$port"
python3 -c 'import secrets; print(secrets.token_hex(32))' >"$raw/operator.key"
payment_body='{"chain_id":1212101,"nonce":17,"recipient":"0x8ba1f109551bd432803012645ac136ddd64dba72","value":"1","token":"0x2d7ed8b2c4b1e0e4f8d1fa1d6c1f2b3a4c5d6e7f","signature":{"r":"0x3b8f7a1c9d2e4f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8","s":"0x1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f80","v":1}}'
read_path="/v1/accounts/nonce?address=0x8ba1f109551bD432803012645Ac136ddd64DBA72"

echo "raw outputs in $raw" >&2
for i in $(seq "$runs"); do
  for rate in $rates; do
    n=0
    for binary in "$@"; do
      n=$((n + 1))
      echo "round $i, $rate/s: binary $n ($binary)" >&2
      out="$raw/b$n-$rate-$i"
      if [ "$mode" = pay ]; then
        taskset -c 0 "$binary" --nodes "127.0.0.1:$port" --no-tui --out "$out" \
          --operator-key-file "$raw/operator.key" --post-rate "$rate" \
          --get-rate $((rate * 3 / 2 + 500)) --duration "${secs}s" \
          --mint-wallets 20 --transfers-per-mint 10 --in-flight-per-account 64 \
          >"$out.stdout" 2>"$out.stderr" || true
      else
        taskset -c 0 "$binary" --nodes "127.0.0.1:$port" --no-tui --out "$out" \
          --post-rate 0 --get-rate "$rate" --duration "${secs}s" >"$out.stdout" 2>"$out.stderr" || true
      fi
    done
    if [ "$peer" = none ]; then
      :
    elif [ "$mode" = pay ]; then
      /usr/bin/time -f '%e %U %S %M' -o "$raw/oha-$rate-$i.time" taskset -c 0 oha -z "${secs}s" \
        -q "$rate" -c 50 --no-tui --output-format json -m POST -T application/json \
        -d "$payment_body" "$url/v1/transactions/payment" >"$raw/oha-$rate-$i.json" 2>/dev/null || true
    else
      /usr/bin/time -f '%e %U %S %M' -o "$raw/oha-$rate-$i.time" taskset -c 0 oha -z "${secs}s" \
        -q "$rate" -c 50 --no-tui --output-format json "$url$read_path" \
        >"$raw/oha-$rate-$i.json" 2>/dev/null || true
    fi
  done
done

python3 - "$raw" "$mode" "$runs" "$secs" "$rates" "$@" <<'EOF'
import json, statistics, sys
raw, mode, runs, secs, rates = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5].split()
binaries = sys.argv[6:]
phase = "sustained" if mode == "pay" else "reads"

def med(values, fmt):
    if not values:
        return "n/a"
    m = statistics.median(values)
    if len(values) == 1:
        return fmt.format(m)
    return f"{fmt.format(m)} ({fmt.format(min(values))}-{fmt.format(max(values))})"

unit = "payment" if mode == "pay" else "request"
print(f"bench/ab.sh MODE={mode} RUNS={runs} SECS={secs}: medians (range); generator on core 0")
print()
print(f"| rate | build | achieved/target | CPU per {unit} | x first build | send-time error p99 | signing | the rest |")
print("|---|---|---|---|---|---|---|---|")
for rate in rates:
    base = None
    for n, binary in enumerate(binaries, 1):
        achieved, cpu, p99, signing, rest = [], [], [], [], []
        for i in range(1, runs + 1):
            try:
                s = json.load(open(f"{raw}/b{n}-{rate}-{i}/summary.json"))
            except (OSError, ValueError):
                continue
            p = next(p for p in s["phases"] if p["phase"] == phase)
            achieved.append(100 * p["total"] / (int(rate) * secs))
            cpu.append(1e6 * p["cpu_s"] / max(p["total"], 1))
            if mode == "pay" and "signing_cpu_s" in p:
                signing.append(1e6 * p["signing_cpu_s"] / max(p["total"], 1))
                rest.append(cpu[-1] - signing[-1])
            direction = "post" if mode == "pay" else "get"
            p99.append(s["send_error"][direction]["p99_us"] / 1000)
        m = statistics.median(cpu) if cpu else None
        if base is None:
            base = m
        ratio = f"x{m / base:.2f}" if m and base else "n/a"
        print(f"| {rate}/s | {n}: {binary} | {med(achieved, '{:.2f} %')} | {med(cpu, '{:.1f} µs')} | {ratio} | {med(p99, '{:.2f} ms')} "
              f"| {med(signing, '{:.1f} µs')} | {med(rest, '{:.1f} µs')} |")
    oha_cpu, oha_done = [], []
    for i in range(1, runs + 1):
        try:
            wall, user, sys_, rss = open(f"{raw}/oha-{rate}-{i}.time").read().split()[-4:]
            j = json.load(open(f"{raw}/oha-{rate}-{i}.json"))
        except (OSError, ValueError):
            continue
        done = sum(j.get("statusCodeDistribution", {}).values())
        if done:
            oha_cpu.append(1e6 * (float(user) + float(sys_)) / done)
            oha_done.append(100 * done / (int(rate) * secs))
    what = "POST" if mode == "pay" else "GET"
    print(f"| {rate}/s | oha {what} | {med(oha_done, '{:.2f} %')} | {med(oha_cpu, '{:.1f} µs')} | | n/a | | |")
EOF
