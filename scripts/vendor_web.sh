#!/usr/bin/env bash
# Refresh the web chat's vendored front-end files from the npm registry, so the
# page at /chat works with no internet at run time. Rasa 3.6 speaks
# python-socketio 5 (Engine.IO v4), which needs socket.io-client 4.
#   scripts/vendor_web.sh            # the pinned version
#   SOCKET_IO_CLIENT=4.8.4 scripts/vendor_web.sh
set -euo pipefail
cd "$(dirname "$0")/.."
version="${SOCKET_IO_CLIENT:-4.8.4}"
dest=backend/static/chat/vendor
command -v npm >/dev/null || { echo "Se necesita npm (apt-get install npm)." >&2; exit 1; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "socket.io-client@${version}" >/dev/null)
tar -xzf "$work"/socket.io-client-*.tgz -C "$work"
mkdir -p "$dest"
cp "$work/package/dist/socket.io.min.js" "$dest/socket.io.min.js"
cp "$work/package/LICENSE" "$dest/socket.io-client.LICENSE"
echo "socket.io-client@${version}" > "$dest/VERSIONS"
echo "==> socket.io-client ${version} copiado en ${dest}"
