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
