#!/usr/bin/env bash
# The demo in one command on a fresh Debian machine: installs what is missing (Debian packages,
# npm dependencies) and runs cloud + edge + MQTT broker fed by a synthetic RTSP camera.
# Uses the model mirror when one is found at ../shared/models or given as ANPR_MODELS_MIRROR.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
mirror="${ANPR_MODELS_MIRROR:-}"
if [ -z "$mirror" ] && [ -d ../shared/models ]; then mirror="$(cd ../shared/models && pwd)"; fi
args=()
[ -n "$mirror" ] && args+=(--mirror "$mirror")
# Inference, sharp, file I/O and DNS share libuv's threadpool; give them room.
export UV_THREADPOOL_SIZE="${UV_THREADPOOL_SIZE:-16}"
exec node bin/anpr.js demo "${args[@]}" "$@"
