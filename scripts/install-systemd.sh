#!/usr/bin/env bash
# Installs the ANPR edge and/or cloud as systemd services on a Debian gate box.
#   sudo scripts/install-systemd.sh [edge|cloud|both] [--prefix /opt/anpr] [--no-start]
# Creates the `anpr` system user, builds here (scripts/setup.sh: npm ci, npm run build), copies
# the checkout with its build (dist/, web/dist) to the prefix and installs the production
# dependencies there (npm ci --omit=dev: no tsx, no esbuild, no TypeScript: the services run the
# compiled dist/ and serve web/dist read-only), installs the units, an example
# /etc/anpr/edge.yaml (never overwritten) and enables the services.
set -euo pipefail
what="${1:-edge}"; shift || true
prefix=/opt/anpr; start=1
while [ $# -gt 0 ]; do
  case "$1" in
    --prefix) prefix="$2"; shift 2 ;;
    --no-start) start=0; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
case "$what" in edge|cloud|both) ;; *) echo "usage: $0 [edge|cloud|both] [--prefix DIR] [--no-start]" >&2; exit 2 ;; esac
[ "$(id -u)" = 0 ] || { echo "run as root (sudo)" >&2; exit 1; }
src="$(cd "$(dirname "$0")/.." && pwd)"

bash "$src/scripts/setup.sh"
[ -f "$src/dist/.built" ] || { echo "install: no build in $src/dist (npm run build failed?)" >&2; exit 1; }
id anpr >/dev/null 2>&1 || useradd --system --home-dir /var/lib/anpr --no-create-home --shell /usr/sbin/nologin --user-group anpr
getent group video >/dev/null && usermod -aG video anpr || true

if [ "$src" != "$prefix" ]; then
  mkdir -p "$prefix"
  # The checkout without data, tests' temp files or a foreign node_modules.
  tar -C "$src" --exclude=./node_modules --exclude=./data --exclude=./.git -cf - . | tar -C "$prefix" -xf -
  (cd "$prefix" && ONNXRUNTIME_NODE_INSTALL=skip npm ci --omit=dev --no-audit --no-fund)
fi
chown -R root:root "$prefix"

install -d -m 0750 -o root -g anpr /etc/anpr
if [ "$what" != cloud ] && [ ! -f /etc/anpr/edge.yaml ]; then
  install -m 0640 -o root -g anpr "$src/systemd/edge.example.yaml" /etc/anpr/edge.yaml
  echo "install: wrote /etc/anpr/edge.yaml — set edge_id, cloud.url/api_key and cameras, then: anpr doctor --config /etc/anpr/edge.yaml"
fi

units=()
[ "$what" != cloud ] && units+=(anpr-edge.service)
[ "$what" != edge ] && units+=(anpr-cloud.service)
for u in "${units[@]}"; do
  sed "s#/opt/anpr#$prefix#g" "$src/systemd/$u" > "/etc/systemd/system/$u"
  chmod 0644 "/etc/systemd/system/$u"
done
command -v systemd-analyze >/dev/null && systemd-analyze verify "${units[@]/#//etc/systemd/system/}" || true
systemctl daemon-reload
systemctl enable "${units[@]}"
if [ "$start" = 1 ]; then
  systemctl restart "${units[@]}"
  systemctl --no-pager --lines=5 status "${units[@]}" || true
fi
echo "install: done. Logs: journalctl -u ${units[0]} -f"
