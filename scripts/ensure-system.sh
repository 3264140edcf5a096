#!/usr/bin/env bash
# Installs the system servers the integration tests run (Prosody with its PostgreSQL driver, ejabberd with its
# own, Redis, PostgreSQL, slixmpp), and the
# tools the ansible checks use (ansible, ansible-lint, nginx for `nginx -t`), when missing. Idempotent
# and quick when everything is present: the checks are file/dpkg look-ups only, and `apt-get update`
# runs only when something has to be installed.
set -euo pipefail

log() { echo "ensure-system: $*"; }

has_postgres() { compgen -G '/usr/lib/postgresql/*/bin/postgres' >/dev/null; }
has_deb() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null || true)" = "install ok installed" ]; }

missing=()
command -v prosody >/dev/null 2>&1 && command -v prosodyctl >/dev/null 2>&1 || missing+=(prosody)
[ -x /usr/sbin/ejabberdctl ] || missing+=(ejabberd)
# ejabberd keeps its archives on PostgreSQL in the rig (MAM on mnesia is pathological): Debian ships the driver apart.
has_deb erlang-p1-pgsql || missing+=(erlang-p1-pgsql)
# The rig's ejabberd offers STARTTLS with a throw-away certificate made by openssl.
command -v openssl >/dev/null 2>&1 || missing+=(openssl)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
# The rig runs Prosody with jemalloc, as deployed (tools/servers/prosody.ts, ProsodyOptions.jemalloc).
has_deb libjemalloc2 || missing+=(libjemalloc2)
# Prosody's archives in PostgreSQL, as deployed (test/tools/prosodySqlArchive.test.ts, bench --prosody-archive sql).
has_deb lua-dbi-postgresql || missing+=(lua-dbi-postgresql)
has_postgres || missing+=(postgresql)
# slixmpp must be importable by /usr/bin/python3 (a pyenv python on PATH does not see the Debian package).
has_deb python3-slixmpp || /usr/bin/python3 -c 'import slixmpp' >/dev/null 2>&1 || missing+=(python3-slixmpp)
# Debian 12 packages ansible 7 (ansible-core 2.14, with community.postgresql) and ansible-lint 6.13.
command -v ansible-playbook >/dev/null 2>&1 || missing+=(ansible)
command -v ansible-lint >/dev/null 2>&1 || missing+=(ansible-lint)
command -v nginx >/dev/null 2>&1 || missing+=(nginx)
# Headless Chromium drives the web client's end-to-end tests (test/e2e, playwright-core; never a downloaded browser).
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
# Attachment housekeeping compresses video/audio with ffmpeg; its test needs the real binary.
command -v ffmpeg >/dev/null 2>&1 || missing+=(ffmpeg)
# The host-site login snippets (docs/host-site.md) are run by their test in PHP and Python as well as Node.
command -v php >/dev/null 2>&1 || missing+=(php-cli)

if [ ${#missing[@]} -eq 0 ]; then
  log "all present (prosody, ejabberd, erlang-p1-pgsql, openssl, redis-server, libjemalloc2, lua-dbi-postgresql, postgresql, python3-slixmpp, ansible, ansible-lint, nginx, chromium, ffmpeg, php-cli)"
  exit 0
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { log "need root (or sudo) to install: ${missing[*]}" >&2; exit 1; }
  SUDO=(sudo)
fi

# The tests run their own servers on free ports; a package's postinst must not start the system ones.
# Docker-style images already deny it via policy-rc.d; elsewhere install a temporary one and remove it after.
POLICY=/usr/sbin/policy-rc.d
if [ ! -e "$POLICY" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$POLICY" >/dev/null
  "${SUDO[@]}" chmod 755 "$POLICY"
  trap '"${SUDO[@]}" rm -f "$POLICY"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
"${SUDO[@]}" apt-get update -qq
for pkg in "${missing[@]}"; do
  log "installing $pkg"
  "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null
done

has_postgres || { log "postgresql installed but no /usr/lib/postgresql/*/bin/postgres found" >&2; exit 1; }
log "done"
