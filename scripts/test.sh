#!/usr/bin/env bash
# The whole test suite (what README.md's second command runs).
set -euo pipefail
cd "$(dirname "$0")/.."
exec .venv/bin/python -m pytest -q "$@"
