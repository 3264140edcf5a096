#!/usr/bin/env bash
# Runs the rendered nginx snippet (ansible/roles/parley/templates/nginx-parley-snippet.conf.j2) for real, on
# loopback in a temp dir, in front of a stub upstream that records every request it gets, and sends every
# spelling of the operations paths (case, trailing and double slashes, dot segments, percent-encoding) as an
# outside client: each must get nginx's 403 and none may reach the upstream. Loopback clients and ordinary
# paths must still get through. Called by scripts/ansible-check.sh with the render dir; alone:
#   scripts/nginx-ops-check.sh <dir holding nginx-snippet.conf>
# nginx sees a client's address from the X-Real-IP header here (realip, from 127.0.0.1 only: this check's
# own throw-away main config), so one loopback curl can play an outsider.
set -euo pipefail
src=${1:?render dir}
dir=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$dir"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
upstream_port=$(free_port)
nginx_port=$(free_port)

# The stub upstream: 200 "upstream" for any method, one line per request path in $dir/upstream.log.
python3 - "$upstream_port" "$dir/upstream.log" <<'PY' &
import sys, http.server
port, log = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def answer(self):
        with open(log, "a") as f: f.write(self.path + "\n")
        self.send_response(200); self.send_header("Content-Length", "8"); self.end_headers(); self.wfile.write(b"upstream")
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = answer
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
pids+=($!)

cp "$src/nginx-snippet.conf" "$dir/parley.conf"
cat >"$dir/nginx.conf" <<EOF
pid $dir/nginx.pid;
error_log $dir/error.log;
daemon off;
events {}
http {
  access_log off;
  client_body_temp_path $dir/body; proxy_temp_path $dir/proxy;
  fastcgi_temp_path $dir/fastcgi; uwsgi_temp_path $dir/uwsgi; scgi_temp_path $dir/scgi;
  real_ip_header X-Real-IP;
  set_real_ip_from 127.0.0.1;
  upstream parley { server 127.0.0.1:$upstream_port; }
  map \$http_x_request_id \$parley_request_id { default \$http_x_request_id; "" \$request_id; }
  server {
    listen 127.0.0.1:$nginx_port;
    include $dir/parley.conf;
  }
}
EOF
nginx -p "$dir" -c "$dir/nginx.conf" &
pids+=($!)
for _ in $(seq 50); do
  curl -s -o /dev/null "http://127.0.0.1:$nginx_port/healthz" && python3 -c "import socket; socket.create_connection(('127.0.0.1', $upstream_port))" 2>/dev/null && break
  sleep 0.1
done
# The readiness probe itself may have reached the upstream: only what follows counts.
: >"$dir/upstream.log"

status() { # status <client address> <method> <path>
  curl -s -o /dev/null -w '%{http_code}' --path-as-is -X "$2" -H "X-Real-IP: $1" "http://127.0.0.1:$nginx_port$3"
}
fail=0
expect() { # expect <code> <client address> <method> <path>
  local got
  got=$(status "$2" "$3" "$4")
  if [ "$got" != "$1" ]; then
    echo "  $3 $4 from $2: $got, expected $1" >&2
    fail=1
  fi
}

outside=203.0.113.9
ops_paths=(
  /metrics /metrics/ /metrics// //metrics /METRICS /Metrics/ /%6Detrics /%6detrics/ /metrics%2F /./metrics
  /x/../metrics '/metrics?x=1' /metrics/anything
  /restapi/v1/admin /restapi/v1/admin/ /restapi/v1/admin/sessions /restapi/v1/admin/sessions/
  /restapi/v1/ADMIN/sessions /RESTAPI/V1/Admin/Sessions /restapi//v1/admin/sessions //restapi/v1/admin/sessions
  /restapi/v1//admin/audit /restapi/v1/admin//audit /restapi/v1/%61dmin/audit /restapi/v1/%41DMIN/audit
  /restapi%2Fv1%2Fadmin/audit /restapi/v1/chat/../admin/audit /restapi/v1/./admin/monitor '/restapi/v1/admin?x=1'
)
for p in "${ops_paths[@]}"; do
  for m in GET POST DELETE; do expect 403 "$outside" "$m" "$p"; done
done
if [ -s "$dir/upstream.log" ]; then
  echo "  the upstream received outside requests for operations paths:" >&2
  sed 's/^/    /' "$dir/upstream.log" >&2
  fail=1
fi
# Not over-blocking: loopback reaches the operations paths; everyone reaches the rest of the API.
expect 200 127.0.0.1 GET /metrics
expect 200 127.0.0.1 GET /restapi/v1/admin/sessions
expect 200 "$outside" GET /restapi/v1/chat/rooms
expect 200 "$outside" POST /restapi/v1/chat/alice/login
expect 200 "$outside" GET /restapi/v1/chat/ps_0123456789abcdef/events
expect 200 "$outside" GET /restapi/v1/metricsx
expect 200 "$outside" GET /restapi/v1/administrators
if [ "$fail" != 0 ]; then
  echo "  nginx error log:" >&2
  tail -n 20 "$dir/error.log" >&2 || true
  exit 1
fi
echo "nginx operations rule: ${#ops_paths[@]} path spellings x 3 methods refused from outside; loopback and the API pass"
