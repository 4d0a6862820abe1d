#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine: system tools from Debian's
# packages, the npm dependencies, then the build (`npm run build`: dist/ and web/dist).
# Idempotent: a second run installs nothing and rebuilds only what changed.
#   ANPR_SETUP_BROWSER=1   also install Chromium (the web app's browser tests need it; the demo does not)
set -euo pipefail
cd "$(dirname "$0")/.."

# GStreamer's RTSP server (the demo's synthetic camera) is tested with Debian's python3: a pyenv or
# venv python3 first on PATH lacks Debian's gi module, and testing that one re-ran apt-get every time.
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
# Debian's mosquitto lives in /usr/sbin, which a non-root PATH lacks: test the file, not PATH.
[ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
"$py" -c 'import gi; gi.require_version("GstRtspServer", "1.0"); from gi.repository import GstRtspServer' >/dev/null 2>&1 \
  || need+=(python3-gi gir1.2-gst-rtsp-server-1.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-ugly gstreamer1.0-plugins-bad gstreamer1.0-libav)
if [ "${ANPR_SETUP_BROWSER:-0}" = 1 ]; then
  command -v chromium >/dev/null 2>&1 || need+=(chromium)
fi
[ -d /usr/share/fonts/truetype/dejavu ] || need+=(fonts-dejavu-core)
# Serial relays and sensors are tested against socat's pseudo-terminals; gpio relays are pulsed
# with libgpiod's gpioset (Debian's gpiod). Both live in /usr/bin: test the files, as above.
[ -x /usr/bin/socat ] || need+=(socat)
[ -x /usr/bin/gpioset ] || need+=(gpiod)
# PostgreSQL 15: the cloud's PostgreSQL backend is tested against real servers that the tests start
# themselves (test/fixtures/postgres.ts). Its programs live in /usr/lib/postgresql/15/bin, on no PATH.
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql)
# nginx: the deployment example's reverse proxy (deploy/nginx) is tested with a real one.
[ -x /usr/sbin/nginx ] || need+=(nginx-light)

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

stamp=node_modules/.anpr-lock-stamp
if [ ! -f "$stamp" ] || ! cmp -s package-lock.json "$stamp"; then
  echo "setup: installing npm dependencies (npm ci)"
  # onnxruntime-node's install script would download GPU libraries; the CPU build ships in the
  # package. Its documented switch is this variable (an .npmrc key makes npm warn on every command).
  ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
  cp package-lock.json "$stamp"
fi

# The compiled service (dist/) and the back-office app (web/dist): the services run these and
# never compile or bundle at run time.
if [ ! -f dist/.built ] || [ -n "$(find cli cloud edge shared web/src bin package.json tsconfig.json tsconfig.build.json -newer dist/.built -print -quit)" ]; then
  echo "setup: building (npm run build)"
  npm run --silent build
fi
