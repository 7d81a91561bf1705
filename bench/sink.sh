# Sourced by bench/compare.sh and bench/ab.sh: a trivial HTTP server on loopback that answers every 1Money
# endpoint the stress run uses with a fixed, well-formed JSON body (nginx `return`, no body
# read, no logging), so that a load generator is measured and not the server. It does not check
# anything: it is a `dual` node (/api/status), so both write surfaces "succeed", a payment at once, every receipt says success, every hash is the same.
# Its checkpoint head is the time in tenths of a second (a checkpoint every 100 ms), and every
# checkpoint lists that one hash, so `--confirm checkpoints` confirms everything outstanding at
# each checkpoint it reads.
#   start_sink PORT WORKDIR CORE   -> nginx pinned to CPU CORE, killed when the script exits
start_sink() {
  local port="$1" work="$2" core="$3"
  mkdir -p "$work/nginx"
  local zero40="0000000000000000000000000000000000000000"
  local hash="0x1111111111111111111111111111111111111111111111111111111111111111"
  cat >"$work/nginx/nginx.conf" <<EOF
daemon off;
worker_processes 1;
user root;
pid $work/nginx/nginx.pid;
error_log $work/nginx/error.log warn;
events { worker_connections 8192; multi_accept on; }
http {
  access_log off;
  keepalive_requests 100000000;
  keepalive_timeout 600s;
  client_body_temp_path $work/nginx;
  proxy_temp_path $work/nginx;
  fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx;
  scgi_temp_path $work/nginx;
  default_type application/json;
  map \$msec \$checkpoint { "~^(?<secs>[0-9]+)[.](?<tenths>[0-9])" "\$secs\$tenths"; }
  server {
    listen 127.0.0.1:$port backlog=4096;
    location = /v1/chains/chain_id { return 200 '{"chain_id":1212101}'; }
    location = /api/status { return 200 '{"native_write_mode":"dual","read_only":false}'; }
    location /v1/transactions/receipt/ {
      return 200 '{"success":true,"transaction_hash":"$hash","fee_used":"0","from":"0x$zero40"}';
    }
    location = /v1/checkpoints/number { return 200 '{"number":\$checkpoint}'; }
    location = /v1/checkpoints/by_number {
      return 200 '{"hash":"$hash","parent_hash":"$hash","state_root":"$hash","transactions_root":"$hash","receipts_root":"$hash","number":\$arg_number,"timestamp":0,"transactions":["$hash"]}';
    }
    location /v1/tokens/token_metadata {
      return 200 '{"symbol":"SINK","master_authority":"0x$zero40","master_mint_burn_authority":"0x$zero40","mint_burn_authorities":[],"pause_authorities":[],"list_authorities":[],"black_list":[],"white_list":[],"metadata_update_authorities":[],"clawback_enabled":true,"supply":"0","decimals":6,"is_paused":false,"is_private":false,"meta":null}';
    }
    location /v1/accounts/token_account { return 200 '{"balance":"0","nonce":0}'; }
    location / {
      if (\$request_method = POST) { return 200 '{"hash":"$hash"}'; }
      return 200 '{"nonce":0,"balance":"0"}';
    }
  }
}
EOF
  taskset -c "$core" nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
  sink_pid=$!
  trap 'kill $sink_pid 2>/dev/null || true; wait $sink_pid 2>/dev/null || true' EXIT
  for _ in $(seq 100); do curl -sf "127.0.0.1:$port/v1/chains/chain_id" >/dev/null && return 0; sleep 0.1; done
  echo "the sink did not start: $(cat "$work/nginx/error.log")" >&2
  return 1
}
