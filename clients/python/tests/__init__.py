"""Tests of the choreoai client.

They test the source tree (``src/`` is put first on ``sys.path``) unless
``CHOREOAI_PY_TEST_INSTALLED=1`` is set, which tests the installed package instead.
"""

import os
import sys

_SRC = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "src")
if os.environ.get("CHOREOAI_PY_TEST_INSTALLED") != "1" and _SRC not in sys.path:
    sys.path.insert(0, _SRC)
