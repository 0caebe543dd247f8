"""A scripted local HTTP server (``http.server``) for the tests.

It plays a fake OpenAI upstream behind the gateway (a provider that fails, then answers), or a
fake gateway in front of the client (to see the exact request, or to answer what the real one
cannot be made to). Each request takes the next action of ``script``, or ``default``; every
request is recorded.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Deque, Dict, List, Mapping, Optional, Sequence

Action = Callable[["StubHandler", Any], None]


class Recorded:
    """One request the stub received."""

    def __init__(self, method: str, path: str, headers: Mapping[str, str], body: Any) -> None:
        self.method = method
        self.path = path
        self.headers = headers
        self.body = body


class StubHandler(BaseHTTPRequestHandler):
    server: "_Server"
    protocol_version = "HTTP/1.0"  # the body ends when the connection closes

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass

    def _handle(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw
        stub = self.server.stub
        with stub.lock:
            stub.requests.append(Recorded(self.command, self.path, dict(self.headers.items()), body))
            action = stub.script.popleft() if stub.script else stub.default
        action(self, body)

    do_GET = _handle
    do_POST = _handle

    # -- writing helpers --------------------------------------------------------------------

    def send_json(self, status: int, payload: Any, headers: Optional[Mapping[str, str]] = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def start_sse(self, headers: Optional[Mapping[str, str]] = None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()

    def send_event(self, data: Any) -> None:
        text = data if isinstance(data, str) else json.dumps(data)
        self.wfile.write(f"data: {text}\n\n".encode("utf-8"))
        self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    stub: "StubServer"

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a connection the test cut on purpose


class StubServer:
    """A running stub: ``url`` is its root (``http://127.0.0.1:PORT``)."""

    def __init__(self, default: Optional[Action] = None) -> None:
        self.lock = threading.Lock()
        self.requests: List[Recorded] = []
        self.script: Deque[Action] = deque()
        self.default: Action = default or completion()
        self._server = _Server(("127.0.0.1", 0), StubHandler)
        self._server.stub = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "StubServer":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def reset(self, *actions: Action) -> None:
        """Forgets recorded requests and sets the next answers."""
        with self.lock:
            self.requests.clear()
            self.script.clear()
            self.script.extend(actions)

    def calls(self, path_suffix: str = "/chat/completions") -> List[Recorded]:
        """The recorded requests whose path ends with ``path_suffix``."""
        with self.lock:
            return [r for r in self.requests if r.path.split("?")[0].endswith(path_suffix)]


# -- actions (answers in OpenAI's wire format) ---------------------------------------------


def completion_body(model: str, content: str) -> Dict[str, Any]:
    return {
        "id": "chatcmpl-stub123",
        "object": "chat.completion",
        "created": 1_764_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
        "system_fingerprint": "fp_stub",
    }


def chunk_body(model: str, delta: Dict[str, Any], finish: Optional[str] = None) -> Dict[str, Any]:
    return {
        "id": "chatcmpl-stubstream",
        "object": "chat.completion.chunk",
        "created": 1_764_000_000,
        "model": model,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }


def usage_chunk(model: str) -> Dict[str, Any]:
    return {
        "id": "chatcmpl-stubstream",
        "object": "chat.completion.chunk",
        "created": 1_764_000_000,
        "model": model,
        "choices": [],
        "usage": {"prompt_tokens": 9, "completion_tokens": 3, "total_tokens": 12},
    }


def _model(body: Any) -> str:
    return str(body.get("model", "gpt-4o")) if isinstance(body, dict) else "gpt-4o"


def completion(content: str = "Hello from the stub") -> Action:
    """200 with a ``chat.completion`` (or a stream, when the request asked for one)."""

    def act(handler: StubHandler, body: Any) -> None:
        if isinstance(body, dict) and body.get("stream"):
            stream(content.split(" "))(handler, body)
        else:
            handler.send_json(200, completion_body(_model(body), content))

    return act


def stream(
    words: Sequence[str],
    *,
    gate: Optional[threading.Event] = None,
    gate_timeout: float = 5.0,
    gate_result: Optional[List[bool]] = None,
    done: bool = True,
) -> Action:
    """A 200 SSE stream of ``words``. With ``gate``, waits after the first word until the
    test sets it (recording in ``gate_result`` whether it was set in time)."""

    def act(handler: StubHandler, body: Any) -> None:
        model = _model(body)
        handler.start_sse()
        handler.send_event(chunk_body(model, {"role": "assistant", "content": ""}))
        for index, word in enumerate(words):
            text = word if index == 0 else " " + word
            handler.send_event(chunk_body(model, {"content": text}))
            if index == 0 and gate is not None:
                released = gate.wait(gate_timeout)
                if gate_result is not None:
                    gate_result.append(released)
        if not done:
            return  # the connection closes: the stream ends without finishing
        handler.send_event(chunk_body(model, {}, "stop"))
        handler.send_event(usage_chunk(model))
        handler.send_event("[DONE]")

    return act


def error(
    status: int,
    message: str = "stub error",
    error_type: str = "api_error",
    code: Optional[str] = None,
    headers: Optional[Mapping[str, str]] = None,
    param: Optional[str] = None,
) -> Action:
    """``status`` with an OpenAI error body."""

    def act(handler: StubHandler, body: Any) -> None:
        payload = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
        handler.send_json(status, payload, headers)

    return act


def raw(status: int, text: str, content_type: str = "text/plain", headers: Optional[Mapping[str, str]] = None) -> Action:
    """``status`` with a body that is not an OpenAI error."""

    def act(handler: StubHandler, body: Any) -> None:
        data = text.encode("utf-8")
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        handler.wfile.write(data)

    return act


def sse_events(events: Sequence[Any], headers: Optional[Mapping[str, str]] = None) -> Action:
    """200 SSE with these exact event data (dicts or text), then the connection closes."""

    def act(handler: StubHandler, body: Any) -> None:
        handler.start_sse(headers)
        for event in events:
            handler.send_event(event)

    return act


def hang(seconds: float) -> Action:
    """Says nothing for ``seconds``, then closes the connection."""

    def act(handler: StubHandler, body: Any) -> None:
        time.sleep(seconds)

    return act


def reset_connection() -> Action:
    """Closes the connection without any answer."""

    def act(handler: StubHandler, body: Any) -> None:
        handler.close_connection = True
        handler.connection.close()

    return act
