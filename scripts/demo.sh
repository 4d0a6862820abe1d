#!/usr/bin/env bash
# The demo in one command on a fresh Debian machine: installs what is missing (Debian packages,
# npm dependencies) and runs cloud + edge + MQTT broker fed by a synthetic RTSP camera.
# Every model ships with the project; ANPR_MODELS_MIRROR may name a mirror of further models.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mirror="${ANPR_MODELS_MIRROR:-}"
args=()
[ -n "$mirror" ] && args+=(--mirror "$mirror")
# Inference, sharp, file I/O and DNS share libuv's threadpool; give them room.
export UV_THREADPOOL_SIZE="${UV_THREADPOOL_SIZE:-16}"
exec node bin/anpr.js demo "${args[@]}" "$@"
