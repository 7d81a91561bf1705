#!/usr/bin/env bash
# What report.html costs for a long run: a short 4-node devnet run is stretched to HOURS hours
# (its load seconds repeated in timeseries.csv and latency.hlog, every 2 minutes a rate-change
# event), then `stress-tui report` draws the page. Prints the seconds it took (median of 3),
# the page's size and the inputs' sizes.
#
#   bench/report_long.sh [HOURS=1]
#   STRESS_TUI=target/debug/stress-tui bench/report_long.sh 1   # another build, not rebuilt
#   KEEP=/tmp/long bench/report_long.sh                         # keeps the stretched folder
#
# Bounded: one 15 s run against --devnet 4 on loopback, then three `report` calls.
set -euo pipefail
cd "$(dirname "$0")/.."
hours="${1:-1}"
binary="${STRESS_TUI:-target/release/stress-tui}"
[ -n "${STRESS_TUI:-}" ] || cargo build --release --quiet
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$binary" --devnet 4 --no-tui --post-rate 200 --get-rate 400 --duration 15s \
  --transfers-per-mint 5 --in-flight-per-account 4 --out "$work/run" >/dev/null 2>&1
python3 - "$work/run" "$hours" <<'PY'
import csv, sys
folder, hours = sys.argv[1], float(sys.argv[2])
seconds = int(hours * 3600)
rows = list(csv.DictReader(open(f"{folder}/timeseries.csv")))
load = [r for r in rows if 5 <= int(r["second"]) < 15]
with open(f"{folder}/timeseries.csv", "w", newline="") as out:
    writer = csv.DictWriter(out, fieldnames=rows[0].keys())
    writer.writeheader()
    for second in range(seconds):
        for row in load[(second % 10) * 5:(second % 10) * 5 + 5]:
            writer.writerow(dict(row, second=second))
lines = open(f"{folder}/latency.hlog").read().splitlines()
head = [l for l in lines if not l.startswith("Tag=")]
intervals = [l.split(",", 2) for l in lines if l.startswith("Tag=")]
by_second = {}
for tag, start, rest in intervals:
    by_second.setdefault(int(float(start)), []).append((tag, rest))
template = [by_second.get(s, []) for s in range(5, 15)]
with open(f"{folder}/latency.hlog", "w") as out:
    out.write("\n".join(head) + "\n")
    for second in range(seconds):
        for tag, rest in template[second % 10]:
            out.write(f"{tag},{second}.000,{rest}\n")
with open(f"{folder}/events.log", "a") as out:
    for minute in range(2, int(hours * 60), 2):
        out.write(f"{minute * 60:>9.3f}s set total to {200 + minute} POST/s, 400 GET/s\n")
PY
times=()
for _ in 1 2 3; do
  start=$(date +%s.%N)
  "$binary" report "$work/run" >/dev/null
  times+=("$(echo "$(date +%s.%N) - $start" | bc)")
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
echo "report.html of a ${hours} h, 4-node run: ${median} s (median of 3: ${times[*]})"
[ -z "${KEEP:-}" ] || cp -r "$work/run" "$KEEP"
ls -l "$work/run/report.html" "$work/run/timeseries.csv" "$work/run/latency.hlog" | awk '{print $5, $9}'
