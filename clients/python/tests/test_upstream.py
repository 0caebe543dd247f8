"""The client against real gateways whose OpenAI provider is unreachable (502) or is a scripted
local fake (``http.server``): 5xx errors, retries that the provider sees, ``Retry-After`` kept
from the provider, streams passed on as they arrive, and a stream that breaks midway."""

from __future__ import annotations

import threading
import time
import unittest
from typing import List

from choreoai import (
    APIError,
    BadRequestError,
    ChoreoAI,
    InternalServerError,
    RateLimitError,
)
from tests import _stub
from tests._gateway import DEV_KEY, Gateway, closed_port

MESSAGES = [{"role": "user", "content": "hi"}]
dead: Gateway
live: Gateway
upstream: _stub.StubServer


def setUpModule() -> None:
    global dead, live, upstream
    upstream = _stub.StubServer().start()
    dead = Gateway(
        {"OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": f"http://127.0.0.1:{closed_port()}/v1"}
    )
    live = Gateway({"OPENAI_API_KEY": "sk-provider-x", "OPENAI_BASE_URL": upstream.url + "/v1"})
    try:
        dead.start()
        live.start()
    except BaseException:
        tearDownModule()
        raise


def tearDownModule() -> None:
    for gateway in (dead, live):
        gateway.stop()
    upstream.stop()


class FakeSleep:
    def __init__(self) -> None:
        self.waits: List[float] = []

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def client(gateway: Gateway, sleep: object = None, **kwargs: object) -> ChoreoAI:
    c = ChoreoAI(api_key=DEV_KEY, base_url=gateway.base_url, **kwargs)  # type: ignore[arg-type]
    if sleep is not None:
        c._sleep = sleep  # type: ignore[assignment]
    return c


class UnreachableProviderTest(unittest.TestCase):
    def test_502_is_an_api_error_after_the_retries(self) -> None:
        sleep = FakeSleep()
        before = len(dead.request_logs("/v1/chat/completions"))
        with self.assertRaises(APIError) as caught:
            client(dead, sleep, max_retries=2).chat.completions.create(model="gpt-4o", messages=MESSAGES)
        error = caught.exception
        self.assertIsInstance(error, InternalServerError)
        self.assertEqual(error.status, 502)
        self.assertEqual(error.type, "api_error")
        self.assertEqual(error.code, "upstream_error")
        self.assertEqual(len(sleep.waits), 2)
        # The gateway saw three requests: the first try and two retries.
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            logs = dead.request_logs("/v1/chat/completions")[before:]
            if len(logs) >= 3:
                break
            time.sleep(0.05)
        self.assertEqual([r.get("status") for r in logs], [502, 502, 502])


class FakeProviderTest(unittest.TestCase):
    def setUp(self) -> None:
        upstream.reset()

    def test_503_then_success(self) -> None:
        upstream.reset(_stub.error(503, "overloaded", "server_error"), _stub.completion("second try"))
        sleep = FakeSleep()
        completion = client(live, sleep).chat.completions.create(model="gpt-4o", messages=MESSAGES)
        self.assertEqual(completion.choices[0].message.content, "second try")
        self.assertEqual(len(upstream.calls()), 2)
        self.assertEqual(len(sleep.waits), 1)

    def test_persistent_500_becomes_502_after_retries(self) -> None:
        upstream.reset(*[_stub.error(500, "boom", "server_error")] * 3)
        sleep = FakeSleep()
        with self.assertRaises(InternalServerError) as caught:
            client(live, sleep, max_retries=1).chat.completions.create(model="gpt-4o", messages=MESSAGES)
        self.assertEqual(caught.exception.status, 502)
        self.assertEqual(len(upstream.calls()), 2)

    def test_provider_429_retry_after_is_waited_for_real(self) -> None:
        upstream.reset(
            _stub.error(429, "Rate limit reached", "requests", "rate_limit_exceeded", {"Retry-After": "1"}),
            _stub.completion("after the wait"),
        )
        started = time.monotonic()
        completion = client(live).chat.completions.create(model="gpt-4o", messages=MESSAGES)
        elapsed = time.monotonic() - started
        self.assertEqual(completion.choices[0].message.content, "after the wait")
        self.assertGreaterEqual(elapsed, 0.95)
        self.assertLess(elapsed, 5)
        self.assertEqual(len(upstream.calls()), 2)

    def test_provider_429_without_retries(self) -> None:
        upstream.reset(_stub.error(429, "Rate limit reached", "requests", "rate_limit_exceeded", {"Retry-After": "7"}))
        with self.assertRaises(RateLimitError) as caught:
            client(live, max_retries=0).chat.completions.create(model="gpt-4o", messages=MESSAGES)
        self.assertEqual(caught.exception.status, 429)
        self.assertEqual(caught.exception.retry_after, 7.0)

    def test_provider_400_is_not_retried(self) -> None:
        upstream.reset(_stub.error(400, "bad temperature", "invalid_request_error", "invalid_value", param="temperature"))
        sleep = FakeSleep()
        with self.assertRaises(BadRequestError) as caught:
            client(live, sleep).chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature=1.5)
        self.assertEqual(caught.exception.status, 400)
        self.assertIn("bad temperature", caught.exception.message)
        self.assertEqual(len(upstream.calls()), 1)
        self.assertEqual(upstream.calls()[0].body["temperature"], 1.5)
        self.assertEqual(sleep.waits, [])

    def test_stream_arrives_chunk_by_chunk(self) -> None:
        gate = threading.Event()
        released: List[bool] = []
        upstream.reset(_stub.stream(["first", "second", "third"], gate=gate, gate_result=released))
        try:
            with client(live).chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True) as stream:
                contents = []
                for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.get("content"):
                        contents.append(chunk.choices[0].delta.content)
                        gate.set()  # the provider sends the rest only after the client saw "first"
        finally:
            gate.set()
        self.assertEqual(released, [True])
        self.assertEqual(contents, ["first", " second", " third"])

    def test_stream_broken_midway_raises_and_is_not_retried(self) -> None:
        upstream.reset(_stub.stream(["partial", "answer"], done=False), _stub.stream(["never"]))
        sleep = FakeSleep()
        received = []
        with self.assertRaises(APIError) as caught:
            for chunk in client(live, sleep, max_retries=3).chat.completions.create(
                model="gpt-4o", messages=MESSAGES, stream=True
            ):
                received.append(chunk)
        error = caught.exception
        self.assertIsNone(error.status)
        self.assertEqual(error.type, "api_error")
        self.assertEqual(error.code, "upstream_error")
        self.assertGreaterEqual(len(received), 1)
        self.assertEqual(len(upstream.calls()), 1)
        self.assertEqual(sleep.waits, [])

    def test_stream_retried_when_the_provider_fails_first(self) -> None:
        upstream.reset(_stub.error(503, "overloaded", "server_error"), _stub.stream(["ok", "now"]))
        sleep = FakeSleep()
        chunks = list(client(live, sleep).chat.completions.create(model="gpt-4o", messages=MESSAGES, stream=True))
        text = "".join(c.choices[0].delta.get("content") or "" for c in chunks if c.choices)
        self.assertEqual(text, "ok now")
        self.assertEqual(len(upstream.calls()), 2)
        self.assertEqual(len(sleep.waits), 1)


if __name__ == "__main__":
    unittest.main()
