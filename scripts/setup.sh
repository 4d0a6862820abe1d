#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine: system tools from Debian's
# packages, then the npm dependencies. Idempotent: a second run installs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v mosquitto >/dev/null 2>&1 && [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
# GStreamer's RTSP server serves the demo's synthetic camera (ffmpeg cannot serve RTSP). Test Debian's
# python3: a pyenv or venv python3 first on PATH lacks Debian's gi module.
"$( [ -x /usr/bin/python3 ] && echo /usr/bin/python3 || echo python3 )" -c 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer' >/dev/null 2>&1 \
  || need+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad gstreamer1.0-libav)
if [ "${ANPR_SETUP_BROWSER:-1}" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
command -v fc-list >/dev/null 2>&1 && fc-list | grep -qi dejavu || need+=(fonts-dejavu-core)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

stamp=node_modules/.anpr-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi

# The back-office web app's assets (content-hashed bundle served by `anpr cloud`).
npm run --silent build:web
