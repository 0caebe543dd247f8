#!/usr/bin/env bash
# Runs the choreoai Python client's tests (standard library unittest) against the source tree,
# from any working directory. Prints unittest's summary ("Ran N tests", "OK" or
# "FAILED (failures=N, errors=N)"); the exit status is non-zero when a test fails.
# Extra arguments go to unittest (e.g. -v). PYTHON overrides the interpreter (default python3).
set -euo pipefail

script="${BASH_SOURCE[0]}"
case "$script" in
  */*) here="${script%/*}" ;;
  *) here="." ;;
esac
here="$(cd "$here" && pwd)"
python="${PYTHON:-python3}"

# Test the source tree, unless CHOREOAI_PY_TEST_INSTALLED=1 asks for the installed package.
if [ "${CHOREOAI_PY_TEST_INSTALLED:-}" != "1" ]; then
  export PYTHONPATH="$here/src${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONDONTWRITEBYTECODE=1
cd "$here"
exec "$python" -m unittest discover -s "$here/tests" -t "$here" "$@"
