#!/usr/bin/env bash
# One command: set up a fresh machine and run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
ANPR_SETUP_BROWSER=1 bash scripts/setup.sh
npm run typecheck
npm test
