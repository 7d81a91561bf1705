# Sourced by the bench scripts: builds the release binary and starts a 4-node devnet in its own
# process on loopback, killed when the script exits.
#   start_devnet PORT WORKDIR   -> sets $binary, $nodes, $admin; writes WORKDIR/operator.key
start_devnet() {
  local port="$1" work="$2"
  if [ -n "${STRESS_TUI_BINARY:-}" ]; then
    binary="$STRESS_TUI_BINARY" # e.g. to compare two builds
  else
    cargo build --release --locked >/dev/null 2>&1 || cargo build --release --locked
    binary=target/release/stress-tui
  fi
  "$binary" devnet --nodes 4 --base-port "$port" --retain 100000 >"$work/devnet.log" 2>&1 &
  devnet_pid=$!
  trap 'kill $devnet_pid 2>/dev/null || true; wait $devnet_pid 2>/dev/null || true' EXIT
  for _ in $(seq 100); do curl -sf "127.0.0.1:$port/api/health" >/dev/null && break; sleep 0.1; done
  "$binary" devnet --print-operator-key >"$work/operator.key"
  nodes="127.0.0.1:$port,127.0.0.1:$((port + 1)),127.0.0.1:$((port + 2)),127.0.0.1:$((port + 3))"
  admin="127.0.0.1:$((port - 1))"
}

# Samples the run PID's RSS every 10 s into WORKDIR/rss.txt ("seconds rss_mib phase", the phase
# from the last line of WORKDIR/progress.log) until it exits.
#   sample_rss PID WORKDIR
sample_rss() {
  local run="$1" work="$2" started rss_kib phase
  started=$(date +%s)
  echo "seconds rss_mib phase" >"$work/rss.txt"
  while kill -0 "$run" 2>/dev/null; do
    rss_kib=$(awk '/VmRSS/ {print $2}' "/proc/$run/status" 2>/dev/null || echo 0)
    phase=$(tail -n 1 "$work/progress.log" 2>/dev/null | awk '{print $3}')
    echo "$(( $(date +%s) - started )) $(( rss_kib / 1024 )) ${phase:-?}" >>"$work/rss.txt"
    sleep 10
  done
}

# The RSS (MiB) of the first sample at least 120 s into the sustained phase.
#   rss_at_sustained_minute2 WORKDIR
rss_at_sustained_minute2() {
  local start
  start=$(awk '$3 == "sustained" {print $1; exit}' "$1/rss.txt")
  awk -v s="${start:-0}" '$3 == "sustained" && $1 >= s + 120 {print $2; exit}' "$1/rss.txt"
}
