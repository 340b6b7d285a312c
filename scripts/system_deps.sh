#!/usr/bin/env bash
# Debian packages the test suites and `make cluster` need: PostgreSQL (backend
# on both databases, Rasa's conversations), Redis (Rasa's lock store), nginx
# (the single public entry of the cluster) and Chromium (the web chat in a
# real browser). Idempotent.
set -euo pipefail
missing=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v redis-server >/dev/null 2>&1 || [ -x /usr/bin/redis-server ] || missing+=(redis-server)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "==> apt-get install ${missing[*]}"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts default services; tests and `make cluster` run their own.
for servicio in postgresql redis-server nginx; do $SUDO service "$servicio" stop >/dev/null 2>&1 || true; done
