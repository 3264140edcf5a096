#!/usr/bin/env bash
# Checks ansible/ (part of `npm test`; alone: `npm run lint:ansible`):
#   1. ansible-lint (production profile, offline);
#   2. ansible-playbook --syntax-check;
#   3. a check-mode run of site.yml against this machine (`-i localhost, -c local --check`), with dummy
#      secrets (ansible/ci/localhost-check.yml), then again pointed at an existing ejabberd instead of the
#      prosody role (ci/ejabberd-check.yml). Without systemd as PID 1 (containers) service tasks skip;
#   4. the rendered systemd unit through `systemd-analyze verify` and `security` (exposure ≤ 2.5), the
#      rendered Prosody config through `prosodyctl check config`, the nginx site and snippet through `nginx -t`;
#   5. the rendered snippet run by nginx on loopback: every spelling of /metrics and the admin API refused from
#      outside (scripts/nginx-ops-check.sh).
# Each step prints one line; a failing step prints its output.
set -euo pipefail
scripts=$(cd "$(dirname "$0")" && pwd)
cd "$scripts/../ansible"
export ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0 PY_COLORS=0 ANSIBLE_DEPRECATION_WARNINGS=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step() {
  local name=$1; shift
  local t0=$SECONDS
  if "$@" >"$work/out.log" 2>&1; then
    echo "ansible: $name ok ($((SECONDS - t0)) s)"
  else
    echo "ansible: $name FAILED" >&2
    tail -n 60 "$work/out.log" >&2
    exit 1
  fi
}

if command -v ansible-lint >/dev/null 2>&1; then
  step "ansible-lint" ansible-lint --offline --nocolor
else
  echo "ansible: ansible-lint not installed (scripts/ensure-system.sh installs it); lint skipped"
fi
step "syntax check" ansible-playbook -i inventory.example.ini site.yml --syntax-check
step "check-mode run on localhost" ansible-playbook -i localhost, -c local --check site.yml -e target=localhost -e @ci/localhost-check.yml
step "check-mode run on localhost, existing ejabberd" ansible-playbook -i localhost, -c local --check site.yml -e target=localhost \
  -e @ci/localhost-check.yml -e @ci/ejabberd-check.yml

render="$work/render"
mkdir -p "$render/snippets"
chmod 755 "$work" "$render" # prosodyctl reads the config as the prosody user
step "render templates" ansible-playbook -i localhost, -c local ci/render.yml -e "render_dir=$render"
step "systemd-analyze verify parley.service" systemd-analyze verify "$render/parley.service"
step "systemd-analyze verify parley-housekeeping.{service,timer}" \
  systemd-analyze verify "$render/parley-housekeeping.service" "$render/parley-housekeeping.timer"
step "systemd-analyze security parley.service" systemd-analyze security --offline=true --threshold=25 "$render/parley.service"
if command -v prosodyctl >/dev/null 2>&1; then
  step "prosodyctl check config" prosodyctl --config "$render/prosody.cfg.lua" check config
fi
if command -v nginx >/dev/null 2>&1; then
  # A throw-away main config and certificate around the rendered site; nginx -t binds no port.
  cp "$render/nginx-snippet.conf" "$render/snippets/parley.conf"
  openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=parley.test \
    -keyout "$render/tls.key" -out "$render/tls.crt" >/dev/null 2>&1
  sed -i "s|ssl_certificate .*;|ssl_certificate $render/tls.crt;|; s|ssl_certificate_key .*;|ssl_certificate_key $render/tls.key;|" "$render/nginx-site.conf"
  printf 'pid %s/nginx.pid;\nerror_log %s/error.log;\nevents {}\nhttp {\n  access_log off;\n  include %s/nginx-site.conf;\n}\n' \
    "$render" "$render" "$render" >"$render/nginx.conf"
  step "nginx -t (site + snippet)" nginx -t -p "$render" -c "$render/nginx.conf"
  step "nginx operations rule through a running nginx" "$scripts/nginx-ops-check.sh" "$render"
fi
