"""The in-tree build backend (``_backend/choreoai_build.py``): wheel, sdist, metadata, and an
offline ``pip install`` of the package directory."""

from __future__ import annotations

import base64
import csv
import hashlib
import importlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile
import unittest
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "_backend"))
backend = importlib.import_module("choreoai_build")
sys.path.remove(os.path.join(ROOT, "_backend"))


class BackendTest(unittest.TestCase):
    def setUp(self) -> None:
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)

    def test_no_build_requirements(self) -> None:
        self.assertEqual(backend.get_requires_for_build_wheel(), [])
        self.assertEqual(backend.get_requires_for_build_sdist(), [])
        self.assertEqual(backend.get_requires_for_build_editable(), [])

    def test_toml_subset_reader_agrees_with_tomllib(self) -> None:
        with open(os.path.join(ROOT, "pyproject.toml"), encoding="utf-8") as handle:
            text = handle.read()
        ours = backend._parse_toml_subset(text)
        self.assertEqual(ours["project"]["name"], "choreoai")
        self.assertEqual(ours["build-system"]["backend-path"], ["_backend"])
        try:
            import tomllib  # type: ignore[import-not-found]
        except ImportError:
            self.skipTest("tomllib needs Python 3.11")
        self.assertEqual(ours, tomllib.loads(text))
        sample = 'a = { b = "c\\u00e9", d = [1, 2,], e = true }\n[x.y]\nz = \'lit\' # note\n'
        self.assertEqual(backend._parse_toml_subset(sample), tomllib.loads(sample))

    def test_wheel(self) -> None:
        name = backend.build_wheel(self.tmp.name)
        self.assertEqual(name, "choreoai-0.1.0-py3-none-any.whl")
        with zipfile.ZipFile(os.path.join(self.tmp.name, name)) as wheel:
            names = set(wheel.namelist())
            for expected in (
                "choreoai/__init__.py",
                "choreoai/_client.py",
                "choreoai/_errors.py",
                "choreoai/_resources.py",
                "choreoai/_streaming.py",
                "choreoai/_types.py",
                "choreoai/py.typed",
                "choreoai-0.1.0.dist-info/METADATA",
                "choreoai-0.1.0.dist-info/WHEEL",
                "choreoai-0.1.0.dist-info/RECORD",
            ):
                self.assertIn(expected, names)
            self.assertFalse([n for n in names if "__pycache__" in n or n.endswith(".pyc")])
            rows = list(csv.reader(io.StringIO(wheel.read("choreoai-0.1.0.dist-info/RECORD").decode())))
            self.assertEqual({row[0] for row in rows}, names)
            for path, digest, size in rows:
                if path.endswith("RECORD"):
                    self.assertEqual((digest, size), ("", ""))
                    continue
                data = wheel.read(path)
                expected_digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
                self.assertEqual(digest, "sha256=" + expected_digest.decode())
                self.assertEqual(int(size), len(data))
            metadata = wheel.read("choreoai-0.1.0.dist-info/METADATA").decode()
        self.assertIn("Name: choreoai\n", metadata)
        self.assertIn("Version: 0.1.0\n", metadata)
        self.assertIn("Requires-Python: >=3.9\n", metadata)
        self.assertNotIn("Requires-Dist", metadata)
        self.assertIn("Description-Content-Type: text/markdown", metadata)

    def test_sdist(self) -> None:
        name = backend.build_sdist(self.tmp.name)
        self.assertEqual(name, "choreoai-0.1.0.tar.gz")
        with tarfile.open(os.path.join(self.tmp.name, name)) as sdist:
            names = set(sdist.getnames())
        for expected in ("PKG-INFO", "pyproject.toml", "README.md", "_backend/choreoai_build.py", "src/choreoai/__init__.py", "tests/test_unit.py"):
            self.assertIn(f"choreoai-0.1.0/{expected}", names)

    def test_editable(self) -> None:
        name = backend.build_editable(self.tmp.name)
        with zipfile.ZipFile(os.path.join(self.tmp.name, name)) as wheel:
            pth = [n for n in wheel.namelist() if n.endswith(".pth")]
            self.assertEqual(len(pth), 1)
            self.assertEqual(wheel.read(pth[0]).decode().strip(), os.path.join(ROOT, "src"))


class PipInstallTest(unittest.TestCase):
    def test_offline_pip_install(self) -> None:
        """``pip install --no-index`` builds and installs the package with no network."""
        probe = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True)
        if probe.returncode != 0:
            self.skipTest("pip is not available for this Python")
        with tempfile.TemporaryDirectory() as target:
            # No index, no find-links, no configuration: only what the package directory holds.
            env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
            env.update(PIP_CONFIG_FILE=os.devnull, PIP_DISABLE_PIP_VERSION_CHECK="1")
            done = subprocess.run(
                [sys.executable, "-m", "pip", "--isolated", "install", "--no-index", "--no-deps", "--quiet", "--target", target, ROOT],
                capture_output=True,
                env=env,
                timeout=120,
            )
            self.assertEqual(done.returncode, 0, done.stderr.decode())
            check = subprocess.run(
                [sys.executable, "-c", "import choreoai, sys; print(choreoai.__version__, choreoai.__file__)"],
                capture_output=True,
                env=dict(os.environ, PYTHONPATH=target),
                cwd=target,
                timeout=60,
            )
            self.assertEqual(check.returncode, 0, check.stderr.decode())
            version, path = check.stdout.decode().split()
            self.assertEqual(version, "0.1.0")
            self.assertTrue(path.startswith(target))
            self.assertTrue(os.path.isfile(os.path.join(target, "choreoai", "py.typed")))
        # The build wrote nothing into the source tree.
        self.assertFalse([n for n in os.listdir(ROOT) if n.endswith(".egg-info") or n in ("build", "dist")])


if __name__ == "__main__":
    unittest.main()
