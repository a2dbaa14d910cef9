#!/usr/bin/env bash
# Unpacks Debian's kubernetes-client (kubectl 1.20) into .cache/kubectl-1.20,
# beside any other kubectl: its /usr/bin/kubectl would collide with the one
# already installed, so it is not installed with apt.
set -euo pipefail
cd "$(dirname "$0")/.."
dest=.cache/kubectl-1.20
if [ -x "$dest/usr/bin/kubectl" ]; then exit 0; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && apt-get download kubernetes-client >/dev/null)
mkdir -p "$dest"
dpkg-deb -x "$work"/kubernetes-client_*.deb "$dest"
"$dest/usr/bin/kubectl" version --client --short 2>/dev/null || "$dest/usr/bin/kubectl" version --client
