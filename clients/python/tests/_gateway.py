"""Runs the real ChoreoAI gateway (``deno run ... main.ts``) for the tests.

The gateway listens on a free port (``CHOREOAI_PORT=0``); its address is read from its first
``"msg":"listening"`` log line on stdout. It gets a clean environment: none of the caller's
``CHOREOAI_*`` or provider variables, no proxy variables, a temporary ``CHOREOAI_DB``.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import unittest
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional

# clients/python/tests/_gateway.py -> the repository root, three levels up.
REPO_ROOT = Path(__file__).resolve().parents[3]
PERMISSIONS = ["--allow-net", "--allow-env", "--allow-read", "--allow-write"]
_SCRUBBED_PREFIXES = ("CHOREOAI_", "OPENAI_", "ANTHROPIC_", "AZURE_OPENAI_", "GEMINI_", "VLLM_")
_PROXY_VARS = {"http_proxy", "https_proxy", "all_proxy", "no_proxy"}
START_TIMEOUT = 60.0

DEV_KEY = "sk-test-123"


def deno_binary() -> str:
    """The deno executable (``DENO_BIN`` or ``deno`` on PATH); skips the tests without one."""
    deno = os.environ.get("DENO_BIN") or shutil.which("deno")
    if not deno:
        raise unittest.SkipTest("deno is not on PATH (set DENO_BIN): the gateway cannot run")
    if not (REPO_ROOT / "main.ts").is_file():
        raise unittest.SkipTest(f"no gateway source at {REPO_ROOT}/main.ts")
    return deno


def clean_env(extra: Optional[Mapping[str, str]] = None) -> Dict[str, str]:
    """The environment for a gateway process: the caller's, minus ours, plus ``extra``."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(_SCRUBBED_PREFIXES) and name.lower() not in _PROXY_VARS
    }
    env.update(extra or {})
    return env


def closed_port() -> int:
    """A local port nobody listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def allow_loopback_without_proxy() -> None:
    """Makes sure urllib in this process never sends loopback traffic through a proxy."""
    for name in ("no_proxy", "NO_PROXY"):
        current = os.environ.get(name, "")
        if "127.0.0.1" not in current.split(","):
            os.environ[name] = ",".join(x for x in (current, "127.0.0.1", "localhost") if x)


class Gateway:
    """One gateway process. ``start()`` returns once it listens; ``stop()`` sends SIGTERM."""

    def __init__(self, env: Optional[Mapping[str, str]] = None) -> None:
        self.workdir = tempfile.mkdtemp(prefix="choreoai-py-test-")
        self._extra_env = dict(env or {})
        self.process: Optional[subprocess.Popen[bytes]] = None
        self.url = ""
        self.stdout_lines: List[str] = []
        self.stderr_lines: List[str] = []
        self._listening = threading.Event()
        self._lock = threading.Lock()
        self._threads: List[threading.Thread] = []

    @property
    def base_url(self) -> str:
        """The API root for clients (``…/v1``)."""
        return self.url + "/v1"

    def start(self) -> "Gateway":
        deno = deno_binary()
        allow_loopback_without_proxy()
        env = clean_env(
            {
                "CHOREOAI_HOST": "127.0.0.1",
                "CHOREOAI_PORT": "0",
                "CHOREOAI_DB": os.path.join(self.workdir, "usage.db"),
                "CHOREOAI_DRAIN_MS": "1000",
                "NO_COLOR": "1",
                **self._extra_env,
            }
        )
        self.process = subprocess.Popen(
            [deno, "run", *PERMISSIONS, "main.ts"],
            cwd=str(REPO_ROOT),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert self.process.stdout is not None and self.process.stderr is not None
        for stream, sink, watch in (
            (self.process.stdout, self.stdout_lines, True),
            (self.process.stderr, self.stderr_lines, False),
        ):
            thread = threading.Thread(target=self._drain, args=(stream, sink, watch), daemon=True)
            thread.start()
            self._threads.append(thread)
        if not self._listening.wait(START_TIMEOUT) or not self.url:
            self.stop()
            raise RuntimeError(
                "the gateway did not start:\n"
                + "\n".join(self.stdout_lines[-20:] + self.stderr_lines[-20:])
            )
        return self

    def _drain(self, stream: Any, sink: List[str], watch: bool) -> None:
        for raw in iter(stream.readline, b""):
            line = raw.decode("utf-8", errors="replace").rstrip("\n")
            with self._lock:
                sink.append(line)
            if watch and not self._listening.is_set():
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict) and record.get("msg") == "listening":
                    self.url = str(record.get("url", "")).rstrip("/")
                    self._listening.set()
        if watch:
            self._listening.set()  # the process ended: stop waiting

    def logs(self) -> List[Dict[str, Any]]:
        """The JSON log lines written on stdout so far."""
        with self._lock:
            lines = list(self.stdout_lines)
        records = []
        for line in lines:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict):
                records.append(record)
        return records

    def request_logs(self, path: Optional[str] = None) -> List[Dict[str, Any]]:
        """The per-request log records, optionally for one path."""
        return [
            r for r in self.logs() if r.get("msg") == "request" and (path is None or r.get("path") == path)
        ]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        for thread in self._threads:
            thread.join(timeout=5)
        if self.process is not None:
            for stream in (self.process.stdout, self.process.stderr):
                if stream is not None:
                    stream.close()
        shutil.rmtree(self.workdir, ignore_errors=True)


def create_key(
    keys_file: str,
    name: str,
    *,
    models: Optional[str] = None,
    rpm: Optional[int] = None,
    tpm: Optional[int] = None,
) -> str:
    """Creates a key with the gateway's CLI (``keys create --json``) and returns it."""
    deno = deno_binary()
    args = [deno, "run", *PERMISSIONS, "main.ts", "keys", "create", "--name", name, "--json"]
    if models is not None:
        args += ["--models", models]
    if rpm is not None:
        args += ["--rpm", str(rpm)]
    if tpm is not None:
        args += ["--tpm", str(tpm)]
    env = clean_env(
        {
            "CHOREOAI_KEYS_FILE": keys_file,
            "CHOREOAI_DB": os.path.join(os.path.dirname(keys_file), "cli.db"),
            "NO_COLOR": "1",
        }
    )
    done = subprocess.run(
        args, cwd=str(REPO_ROOT), env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=60
    )
    if done.returncode != 0:
        raise RuntimeError(f"keys create failed ({done.returncode}): {done.stderr.decode()}")
    return str(json.loads(done.stdout)["key"])
