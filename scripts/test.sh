#!/usr/bin/env bash
# The test suite.
#   bash scripts/test.sh          everything (what README.md's second command and CI run)
#   bash scripts/test.sh --fast   the everyday tier: leaves out the tests marked `slow` (real OCR and
#                                 language models, whole server and batch processes); under a minute
# Any other arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--fast" ]]; then
  shift
  set -- -m "not slow" "$@"
fi
exec .venv/bin/python -m pytest -q "$@"
