"""A minimal PEP 517 / PEP 660 build backend, standard library only.

Why it exists: ``pip install ./clients/python`` builds the package in an isolated environment
and would first download the build backend named in ``pyproject.toml`` (setuptools, hatchling,
...). This one ships inside the source tree (``backend-path = ["_backend"]``) and needs nothing
but Python, so the install works offline, in a fresh virtual environment, with any pip that
knows PEP 517 (pip >= 19).

It builds a pure-Python wheel (``py3-none-any``) of ``src/<name>/``, an sdist, and an editable
wheel (a ``.pth`` file pointing at ``src``). The metadata comes from the ``[project]`` table of
``pyproject.toml``: ``name``, ``version``, ``description``, ``readme``, ``requires-python``,
``license``, ``authors``, ``keywords``, ``classifiers``, ``urls``, ``dependencies``. It writes
nothing into the source tree.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib
import io
import os
import re
import tarfile
import time
import zipfile
from typing import Any, Dict, Iterator, List, Optional, Tuple

__all__ = [
    "build_wheel",
    "build_sdist",
    "build_editable",
    "get_requires_for_build_wheel",
    "get_requires_for_build_sdist",
    "get_requires_for_build_editable",
    "prepare_metadata_for_build_wheel",
    "prepare_metadata_for_build_editable",
    "read_pyproject",
    "parse_toml",
]

GENERATOR = "choreoai_build 1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# Files and folders of the project root that go into the sdist.
SDIST_INCLUDE = ("pyproject.toml", "README.md", "run_tests.sh", "_backend", "src", "tests")
EXCLUDED_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".git"}
EXCLUDED_SUFFIXES = (".pyc", ".pyo")


# -- pyproject.toml -------------------------------------------------------------------------


def parse_toml(text: str) -> Dict[str, Any]:
    """Reads TOML with ``tomllib`` when Python has it (3.11+), else with a small reader of the
    subset ``pyproject.toml`` files use: tables, dotted table names, strings, integers,
    booleans, arrays (over several lines too) and inline tables."""
    try:
        tomllib = importlib.import_module("tomllib")
    except ImportError:
        return _parse_toml_subset(text)
    data: Dict[str, Any] = tomllib.loads(text)
    return data


_KEY = re.compile(r'\s*("(?:[^"\\]|\\.)*"|[A-Za-z0-9_.-]+)\s*=\s*')


def _parse_toml_subset(text: str) -> Dict[str, Any]:
    data: Dict[str, Any] = {}
    table = data
    pos = 0
    length = len(text)
    while pos < length:
        pos = _skip_space(text, pos, newlines=True)
        if pos >= length:
            break
        if text[pos] == "[":
            end = text.index("]", pos)
            if text.startswith("[[", pos):
                raise ValueError("arrays of tables are not supported")
            table = data
            for part in _split_key(text[pos + 1 : end].strip()):
                table = table.setdefault(part, {})
            pos = end + 1
            continue
        match = _KEY.match(text, pos)
        if match is None:
            raise ValueError(f"cannot read TOML at offset {pos}: {text[pos:pos + 30]!r}")
        parts = _split_key(match.group(1))
        target = table
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        value, pos = _parse_value(text, match.end())
        target[parts[-1]] = value
    return data


def _split_key(key: str) -> List[str]:
    if key.startswith('"'):
        return [_unescape(key[1:-1])]
    return [part.strip() for part in key.split(".")]


def _skip_space(text: str, pos: int, newlines: bool) -> int:
    while pos < len(text):
        char = text[pos]
        if char == "#":
            while pos < len(text) and text[pos] != "\n":
                pos += 1
        elif char in " \t\r" or (newlines and char == "\n"):
            pos += 1
        else:
            break
    return pos


def _unescape(raw: str) -> str:
    out: List[str] = []
    i = 0
    simple = {'"': '"', "\\": "\\", "n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
    while i < len(raw):
        char = raw[i]
        if char != "\\":
            out.append(char)
            i += 1
            continue
        code = raw[i + 1]
        if code in simple:
            out.append(simple[code])
            i += 2
        elif code in "uU":
            size = 4 if code == "u" else 8
            out.append(chr(int(raw[i + 2 : i + 2 + size], 16)))
            i += 2 + size
        else:
            raise ValueError(f"bad escape \\{code}")
    return "".join(out)


def _parse_value(text: str, pos: int) -> Tuple[Any, int]:
    pos = _skip_space(text, pos, newlines=False)
    char = text[pos]
    if text.startswith('"""', pos) or text.startswith("'''", pos):
        quote = text[pos : pos + 3]
        end = text.index(quote, pos + 3)
        body = text[pos + 3 : end]
        if body.startswith("\n"):
            body = body[1:]
        return (_unescape(body) if quote == '"""' else body), end + 3
    if char == '"':
        match = re.compile(r'"((?:[^"\\\n]|\\.)*)"').match(text, pos)
        if match is None:
            raise ValueError(f"unterminated string at offset {pos}")
        return _unescape(match.group(1)), match.end()
    if char == "'":
        end = text.index("'", pos + 1)
        return text[pos + 1 : end], end + 1
    if char == "[":
        items: List[Any] = []
        pos += 1
        while True:
            pos = _skip_space(text, pos, newlines=True)
            if text[pos] == "]":
                return items, pos + 1
            value, pos = _parse_value(text, pos)
            items.append(value)
            pos = _skip_space(text, pos, newlines=True)
            if text[pos] == ",":
                pos += 1
    if char == "{":
        table: Dict[str, Any] = {}
        pos += 1
        while True:
            pos = _skip_space(text, pos, newlines=False)
            if text[pos] == "}":
                return table, pos + 1
            match = _KEY.match(text, pos)
            if match is None:
                raise ValueError(f"bad inline table at offset {pos}")
            value, pos = _parse_value(text, match.end())
            table[_split_key(match.group(1))[-1]] = value
            pos = _skip_space(text, pos, newlines=False)
            if text[pos] == ",":
                pos += 1
    match = re.compile(r"true|false|[+-]?[0-9_]+(?:\.[0-9_]+)?").match(text, pos)
    if match is None:
        raise ValueError(f"unsupported TOML value at offset {pos}: {text[pos:pos + 20]!r}")
    word = match.group(0)
    if word in ("true", "false"):
        return word == "true", match.end()
    number = word.replace("_", "")
    return (float(number) if "." in number else int(number)), match.end()


def read_pyproject(root: str = ROOT) -> Dict[str, Any]:
    """The ``[project]`` table of ``root/pyproject.toml``, checked for what this backend needs."""
    with open(os.path.join(root, "pyproject.toml"), encoding="utf-8") as handle:
        project = parse_toml(handle.read()).get("project")
    if not isinstance(project, dict):
        raise ValueError("pyproject.toml has no [project] table")
    for field in ("name", "version"):
        if not isinstance(project.get(field), str):
            raise ValueError(f"pyproject.toml: project.{field} must be a string")
    if project.get("dynamic"):
        raise ValueError("pyproject.toml: dynamic fields are not supported by this backend")
    return project


# -- metadata -------------------------------------------------------------------------------


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _dist_info(project: Dict[str, Any]) -> str:
    return f"{_normalized(project['name'])}-{project['version']}.dist-info"


def _readme(project: Dict[str, Any], root: str) -> Tuple[Optional[str], Optional[str]]:
    readme = project.get("readme")
    if readme is None:
        return None, None
    if isinstance(readme, str):
        readme = {"file": readme}
    content_type = readme.get("content-type")
    if "text" in readme:
        return readme["text"], content_type or "text/plain"
    path = readme["file"]
    if content_type is None:
        content_type = "text/markdown" if path.lower().endswith(".md") else (
            "text/x-rst" if path.lower().endswith(".rst") else "text/plain"
        )
    with open(os.path.join(root, path), encoding="utf-8") as handle:
        return handle.read(), content_type


def metadata_text(root: str = ROOT) -> str:
    """The core metadata (``METADATA`` / ``PKG-INFO``), version 2.1."""
    project = read_pyproject(root)
    lines = [
        "Metadata-Version: 2.1",
        f"Name: {project['name']}",
        f"Version: {project['version']}",
    ]
    if project.get("description"):
        lines.append(f"Summary: {project['description']}")
    if project.get("requires-python"):
        lines.append(f"Requires-Python: {project['requires-python']}")
    license_field = project.get("license")
    if isinstance(license_field, str):
        lines.append(f"License: {license_field}")
    elif isinstance(license_field, dict) and "text" in license_field:
        lines.append(f"License: {license_field['text']}")
    for author in project.get("authors", []):
        if author.get("name") and author.get("email"):
            lines.append(f"Author-email: {author['name']} <{author['email']}>")
        elif author.get("email"):
            lines.append(f"Author-email: {author['email']}")
        elif author.get("name"):
            lines.append(f"Author: {author['name']}")
    if project.get("keywords"):
        lines.append(f"Keywords: {','.join(project['keywords'])}")
    for classifier in project.get("classifiers", []):
        lines.append(f"Classifier: {classifier}")
    for label, url in project.get("urls", {}).items():
        lines.append(f"Project-URL: {label}, {url}")
    for requirement in project.get("dependencies", []):
        lines.append(f"Requires-Dist: {requirement}")
    for extra, requirements in project.get("optional-dependencies", {}).items():
        lines.append(f"Provides-Extra: {extra}")
        for requirement in requirements:
            lines.append(f'Requires-Dist: {requirement}; extra == "{extra}"')
    description, content_type = _readme(project, root)
    if content_type:
        lines.append(f"Description-Content-Type: {content_type}")
    text = "\n".join(lines) + "\n"
    if description:
        text += "\n" + description
    return text


def _wheel_text() -> str:
    return (
        "Wheel-Version: 1.0\n"
        f"Generator: {GENERATOR}\n"
        "Root-Is-Purelib: true\n"
        "Tag: py3-none-any\n"
    )


# -- archives -------------------------------------------------------------------------------


def _epoch() -> int:
    """``SOURCE_DATE_EPOCH`` when set (reproducible builds), else 1980-01-01 (zip's first day)."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return max(int(epoch), 315532800) if epoch and epoch.isdigit() else 315532800


def _timestamp() -> Tuple[int, int, int, int, int, int]:
    stamp = time.gmtime(_epoch())
    return (stamp.tm_year, stamp.tm_mon, stamp.tm_mday, stamp.tm_hour, stamp.tm_min, stamp.tm_sec)


def _walk(base: str) -> Iterator[str]:
    """Files under ``base`` (relative paths with ``/``), sorted, without caches."""
    for directory, subdirs, files in os.walk(base):
        subdirs[:] = sorted(d for d in subdirs if d not in EXCLUDED_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            if name.endswith(EXCLUDED_SUFFIXES):
                continue
            full = os.path.join(directory, name)
            yield os.path.relpath(full, base).replace(os.sep, "/")


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return "sha256=" + digest.decode("ascii")


class _WheelWriter:
    def __init__(self, path: str, dist_info: str) -> None:
        self._zip = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED)
        self._records: List[str] = []
        self._dist_info = dist_info
        self._date = _timestamp()

    def add(self, name: str, data: bytes, executable: bool = False) -> None:
        info = zipfile.ZipInfo(name, date_time=self._date)
        info.external_attr = ((0o755 if executable else 0o644) | 0o100000) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, data)
        self._records.append(f"{name},{_record_hash(data)},{len(data)}")

    def close(self) -> None:
        record_name = f"{self._dist_info}/RECORD"
        self._records.append(f"{record_name},,")
        info = zipfile.ZipInfo(record_name, date_time=self._date)
        info.external_attr = (0o644 | 0o100000) << 16
        info.compress_type = zipfile.ZIP_DEFLATED
        self._zip.writestr(info, ("\n".join(self._records) + "\n").encode("utf-8"))
        self._zip.close()


def _write_dist_info(writer: _WheelWriter, project: Dict[str, Any], root: str, packages: List[str]) -> None:
    dist_info = _dist_info(project)
    writer.add(f"{dist_info}/METADATA", metadata_text(root).encode("utf-8"))
    writer.add(f"{dist_info}/WHEEL", _wheel_text().encode("utf-8"))
    writer.add(f"{dist_info}/top_level.txt", ("\n".join(packages) + "\n").encode("utf-8"))


def _packages(project: Dict[str, Any], root: str) -> List[str]:
    src = os.path.join(root, "src")
    name = _normalized(project["name"])
    packages = sorted(
        entry
        for entry in os.listdir(src)
        if os.path.isfile(os.path.join(src, entry, "__init__.py"))
    )
    if name not in packages:
        raise ValueError(f"src/{name}/__init__.py not found")
    return packages


def _wheel_name(project: Dict[str, Any]) -> str:
    return f"{_normalized(project['name'])}-{project['version']}-py3-none-any.whl"


# -- PEP 517 / PEP 660 hooks ----------------------------------------------------------------


def get_requires_for_build_wheel(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    """Nothing to install before building."""
    return []


def get_requires_for_build_sdist(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    """Nothing to install before building."""
    return []


def get_requires_for_build_editable(config_settings: Optional[Dict[str, Any]] = None) -> List[str]:
    """Nothing to install before building."""
    return []


def prepare_metadata_for_build_wheel(
    metadata_directory: str, config_settings: Optional[Dict[str, Any]] = None
) -> str:
    """Writes ``<name>-<version>.dist-info`` (METADATA, WHEEL) into ``metadata_directory``."""
    project = read_pyproject(ROOT)
    dist_info = _dist_info(project)
    target = os.path.join(metadata_directory, dist_info)
    os.makedirs(target, exist_ok=True)
    with open(os.path.join(target, "METADATA"), "w", encoding="utf-8") as handle:
        handle.write(metadata_text(ROOT))
    with open(os.path.join(target, "WHEEL"), "w", encoding="utf-8") as handle:
        handle.write(_wheel_text())
    return dist_info


prepare_metadata_for_build_editable = prepare_metadata_for_build_wheel


def build_wheel(
    wheel_directory: str,
    config_settings: Optional[Dict[str, Any]] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    """Builds ``<name>-<version>-py3-none-any.whl`` from ``src/`` into ``wheel_directory``."""
    project = read_pyproject(ROOT)
    packages = _packages(project, ROOT)
    filename = _wheel_name(project)
    os.makedirs(wheel_directory, exist_ok=True)
    writer = _WheelWriter(os.path.join(wheel_directory, filename), _dist_info(project))
    try:
        for package in packages:
            base = os.path.join(ROOT, "src", package)
            for relative in _walk(base):
                with open(os.path.join(base, relative), "rb") as handle:
                    writer.add(f"{package}/{relative}", handle.read())
        _write_dist_info(writer, project, ROOT, packages)
    finally:
        writer.close()
    return filename


def build_editable(
    wheel_directory: str,
    config_settings: Optional[Dict[str, Any]] = None,
    metadata_directory: Optional[str] = None,
) -> str:
    """Builds a wheel whose ``.pth`` file puts this tree's ``src`` on ``sys.path``."""
    project = read_pyproject(ROOT)
    packages = _packages(project, ROOT)
    filename = _wheel_name(project)
    os.makedirs(wheel_directory, exist_ok=True)
    writer = _WheelWriter(os.path.join(wheel_directory, filename), _dist_info(project))
    try:
        pth = f"__editable__.{_normalized(project['name'])}-{project['version']}.pth"
        writer.add(pth, (os.path.join(ROOT, "src") + "\n").encode("utf-8"))
        _write_dist_info(writer, project, ROOT, packages)
    finally:
        writer.close()
    return filename


def build_sdist(sdist_directory: str, config_settings: Optional[Dict[str, Any]] = None) -> str:
    """Builds ``<name>-<version>.tar.gz`` (sources, tests, this backend, PKG-INFO)."""
    project = read_pyproject(ROOT)
    base_name = f"{_normalized(project['name'])}-{project['version']}"
    filename = f"{base_name}.tar.gz"
    os.makedirs(sdist_directory, exist_ok=True)
    mtime = _epoch()

    def add(tar: tarfile.TarFile, name: str, data: bytes, mode: int) -> None:
        info = tarfile.TarInfo(f"{base_name}/{name}")
        info.size = len(data)
        info.mtime = mtime
        info.mode = mode
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        tar.addfile(info, io.BytesIO(data))

    path = os.path.join(sdist_directory, filename)
    with open(path, "wb") as raw:
        with gzip.GzipFile(fileobj=raw, mode="wb", mtime=mtime) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.PAX_FORMAT) as tar:
                add(tar, "PKG-INFO", metadata_text(ROOT).encode("utf-8"), 0o644)
                for entry in SDIST_INCLUDE:
                    full = os.path.join(ROOT, entry)
                    if os.path.isfile(full):
                        names = [entry]
                    elif os.path.isdir(full):
                        names = [f"{entry}/{relative}" for relative in _walk(full)]
                    else:
                        continue
                    for name in names:
                        file_path = os.path.join(ROOT, name)
                        with open(file_path, "rb") as handle:
                            executable = os.access(file_path, os.X_OK)
                            add(tar, name, handle.read(), 0o755 if executable else 0o644)
    return filename
