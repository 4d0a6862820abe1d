#!/usr/bin/env bash
# One command: set up a fresh machine and run the whole test suite (and the cloud's API tests
# again on PostgreSQL).
set -euo pipefail
cd "$(dirname "$0")/.."
ANPR_SETUP_BROWSER=1 bash scripts/setup.sh
npm run typecheck
npm test
# The cloud's API tests once more on PostgreSQL (a cluster the tests start themselves).
npm run test:postgres
