"""The client's HTTP behaviour against a scripted local server: the exact request it sends,
retries and their waits, timeouts, streaming as events arrive. (The real gateway is in the
other test modules; this server answers what the gateway cannot be made to.)"""

from __future__ import annotations

import threading
import time
import traceback
import unittest
from typing import List

from choreoai import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    BadRequestError,
    ChatCompletion,
    ChoreoAI,
    InternalServerError,
    NotFoundError,
    RateLimitError,
    __version__,
)
from tests import _stub
from tests._gateway import allow_loopback_without_proxy

SECRET = "sk-stub-secret-key-abcdef123456"
stub: _stub.StubServer


def setUpModule() -> None:
    global stub
    allow_loopback_without_proxy()
    stub = _stub.StubServer().start()


def tearDownModule() -> None:
    stub.stop()


class StubTestCase(unittest.TestCase):
    def setUp(self) -> None:
        stub.reset()
        self.waits: List[float] = []

    def client(self, **kwargs: object) -> ChoreoAI:
        client = ChoreoAI(api_key=SECRET, base_url=stub.url + "/v1", **kwargs)  # type: ignore[arg-type]
        client._sleep = self.waits.append
        client._random = lambda: 0.0
        return client


class WireFormatTest(StubTestCase):
    def test_request_line_headers_and_body(self) -> None:
        tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]
        result = self.client().chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            temperature=0.2,
            max_tokens=5,
            tools=tools,
            tool_choice="auto",
            response_format={"type": "json_object"},
            seed=7,
            top_p=None,
            logprobs=True,
            reasoning_effort="low",
            extra_headers={"X-Request-Id": "my-id-1", "X-Custom": "yes"},
            extra_body={"metadata": {"k": "v"}},
            extra_query={"debug": "1"},
        )
        self.assertIsInstance(result, ChatCompletion)
        self.assertEqual(result.choices[0].message.content, "Hello from the stub")
        (request,) = stub.requests
        self.assertEqual(request.method, "POST")
        self.assertEqual(request.path, "/v1/chat/completions?debug=1")
        headers = {k.lower(): v for k, v in request.headers.items()}
        self.assertEqual(headers["authorization"], f"Bearer {SECRET}")
        self.assertEqual(headers["user-agent"], f"choreoai-python/{__version__}")
        self.assertEqual(headers["content-type"], "application/json")
        self.assertEqual(headers["accept"], "application/json")
        self.assertEqual(headers["x-request-id"], "my-id-1")
        self.assertEqual(headers["x-custom"], "yes")
        self.assertEqual(
            request.body,
            {
                "model": "gpt-4o",
                "messages": [{"role": "user", "content": "hi"}],
                "temperature": 0.2,
                "max_tokens": 5,
                "tools": tools,
                "tool_choice": "auto",
                "response_format": {"type": "json_object"},
                "seed": 7,
                "logprobs": True,
                "reasoning_effort": "low",
                "metadata": {"k": "v"},
            },
        )

    def test_stream_request(self) -> None:
        with self.client().chat.completions.create(
            model="gpt-4o",
            messages=({"role": "user", "content": "x"},),
            stream=True,
            stream_options={"include_usage": True},
        ) as chunks:
            text = "".join(c.choices[0].delta.get("content") or "" for c in chunks if c.choices)
        self.assertEqual(text, "Hello from the stub")
        body = stub.requests[0].body
        self.assertEqual(body["stream"], True)
        self.assertEqual(body["stream_options"], {"include_usage": True})
        self.assertEqual(body["messages"], [{"role": "user", "content": "x"}])
        self.assertEqual(stub.requests[0].headers.get("Accept"), "text/event-stream")

    def test_models_paths_and_embeddings_body(self) -> None:
        stub.reset(
            lambda h, b: h.send_json(200, {"object": "list", "data": [{"id": "a/b", "object": "model"}]}),
            lambda h, b: h.send_json(200, {"id": "a/b", "object": "model"}),
            lambda h, b: h.send_json(200, {"object": "list", "data": [{"object": "embedding", "index": 0, "embedding": [1.0]}], "model": "m", "usage": {"prompt_tokens": 1, "total_tokens": 1}}),
        )
        client = self.client()
        self.assertEqual([m.id for m in client.models.list()], ["a/b"])
        self.assertEqual(client.models.retrieve("a/b").id, "a/b")
        result = client.embeddings.create(model="m", input=("x", "y"), dimensions=8)
        self.assertEqual(result.data[0].embedding, [1.0])
        self.assertEqual([r.path for r in stub.requests], ["/v1/models", "/v1/models/a%2Fb", "/v1/embeddings"])
        self.assertEqual([r.method for r in stub.requests], ["GET", "GET", "POST"])
        self.assertNotIn("Content-Type", stub.requests[0].headers)
        self.assertEqual(stub.requests[2].body, {"model": "m", "input": ["x", "y"], "dimensions": 8})


class RetryTest(StubTestCase):
    def test_5xx_then_success_with_backoff(self) -> None:
        stub.reset(_stub.error(503, code="upstream_overloaded"), _stub.error(502), _stub.completion("ok"))
        result = self.client().chat.completions.create(model="m", messages=[])
        self.assertEqual(result.choices[0].message.content, "ok")
        self.assertEqual(len(stub.calls()), 3)
        self.assertEqual(self.waits, [0.5, 1.0])

    def test_backoff_is_exponential_capped_and_jittered(self) -> None:
        client = self.client(max_retries=6)
        stub.reset(*[_stub.error(500)] * 7)
        with self.assertRaises(InternalServerError):
            client.chat.completions.create(model="m", messages=[])
        self.assertEqual(self.waits, [0.5, 1.0, 2.0, 4.0, 8.0, 8.0])
        client._random = lambda: 1.0
        self.waits.clear()
        stub.reset(_stub.error(500), _stub.completion())
        client.chat.completions.create(model="m", messages=[])
        self.assertEqual(self.waits, [0.375])

    def test_gives_up_after_max_retries(self) -> None:
        stub.reset(*[_stub.error(500, "boom", "server_error", "internal_error")] * 5)
        with self.assertRaises(InternalServerError) as caught:
            self.client(max_retries=2).chat.completions.create(model="m", messages=[])
        self.assertEqual(len(stub.calls()), 3)
        self.assertEqual(caught.exception.status, 500)
        self.assertEqual(caught.exception.code, "internal_error")

    def test_retry_after_is_honoured(self) -> None:
        stub.reset(_stub.error(429, "slow down", "rate_limit_error", "rate_limit_exceeded", {"Retry-After": "3"}), _stub.completion())
        self.client().chat.completions.create(model="m", messages=[])
        self.assertEqual(self.waits, [3.0])

    def test_long_retry_after_is_not_waited(self) -> None:
        stub.reset(_stub.error(429, "slow down", "rate_limit_error", "rate_limit_exceeded", {"Retry-After": "120"}), _stub.completion())
        with self.assertRaises(RateLimitError) as caught:
            self.client().chat.completions.create(model="m", messages=[])
        self.assertEqual(self.waits, [])
        self.assertEqual(len(stub.calls()), 1)
        self.assertEqual(caught.exception.retry_after, 120.0)

    def test_real_wait_of_one_second(self) -> None:
        stub.reset(_stub.error(503, headers={"Retry-After": "1"}), _stub.completion())
        client = ChoreoAI(api_key=SECRET, base_url=stub.url + "/v1")  # the real time.sleep
        started = time.monotonic()
        client.chat.completions.create(model="m", messages=[])
        elapsed = time.monotonic() - started
        self.assertGreaterEqual(elapsed, 0.95)
        self.assertLess(elapsed, 5)
        self.assertEqual(len(stub.calls()), 2)

    def test_client_errors_are_not_retried(self) -> None:
        for status, cls in ((400, BadRequestError), (404, NotFoundError), (409, BadRequestError)):
            stub.reset(_stub.error(status, "no", "invalid_request_error", "x"), _stub.completion())
            with self.assertRaises(cls):
                self.client().chat.completions.create(model="m", messages=[])
            self.assertEqual(len(stub.calls()), 1, status)
        self.assertEqual(self.waits, [])

    def test_max_retries_zero(self) -> None:
        stub.reset(_stub.error(503), _stub.completion())
        with self.assertRaises(InternalServerError):
            self.client(max_retries=0).chat.completions.create(model="m", messages=[])
        self.assertEqual(len(stub.calls()), 1)

    def test_x_should_retry_false_is_never_retried(self) -> None:
        too_large = {"x-should-retry": "false"}
        cases = (
            (_stub.error(429, "never fits", "rate_limit_error", "rate_limit_exceeded", too_large), RateLimitError),
            (_stub.error(503, headers={"x-should-retry": "false", "Retry-After": "1"}), InternalServerError),
        )
        for action, cls in cases:
            stub.reset(action, _stub.completion())
            with self.assertRaises(cls):
                self.client().chat.completions.create(model="m", messages=[])
            self.assertEqual(len(stub.calls()), 1, cls.__name__)
        self.assertEqual(self.waits, [])

    def test_x_should_retry_true_retries_any_status(self) -> None:
        stub.reset(_stub.error(400, headers={"x-should-retry": "true"}), _stub.error(404, headers={"x-should-retry": "true", "Retry-After": "2"}), _stub.completion("ok"))
        result = self.client().chat.completions.create(model="m", messages=[])
        self.assertEqual(result.choices[0].message.content, "ok")
        self.assertEqual(len(stub.calls()), 3)
        self.assertEqual(self.waits, [0.5, 2.0])

    def test_x_should_retry_takes_exact_values_only(self) -> None:
        for value in ("TRUE", "1", "yes"):  # as in OpenAI's SDKs: only "true" and "false" count
            stub.reset(_stub.error(400, headers={"x-should-retry": value}), _stub.completion())
            with self.assertRaises(BadRequestError):
                self.client().chat.completions.create(model="m", messages=[])
            self.assertEqual(len(stub.calls()), 1, value)

    def test_connection_reset_is_retried(self) -> None:
        stub.reset(_stub.reset_connection(), _stub.completion("after reset"))
        result = self.client().chat.completions.create(model="m", messages=[])
        self.assertEqual(result.choices[0].message.content, "after reset")
        self.assertEqual(len(self.waits), 1)

    def test_stream_is_retried_before_its_first_byte(self) -> None:
        stub.reset(_stub.error(503), _stub.stream(["a", "b"]))
        with self.client().chat.completions.create(model="m", messages=[], stream=True) as chunks:
            self.assertEqual(len([c for c in chunks if c.choices]), 4)
        self.assertEqual(len(stub.calls()), 2)

    def test_stream_is_never_retried_after_its_first_byte(self) -> None:
        stub.reset(_stub.stream(["a", "b"], done=False), _stub.stream(["c"]))
        received = []
        with self.assertRaises(APIConnectionError):
            for chunk in self.client(max_retries=3).chat.completions.create(model="m", messages=[], stream=True):
                received.append(chunk)
        self.assertEqual(len(received), 3)
        self.assertEqual(len(stub.calls()), 1)
        self.assertEqual(self.waits, [])


class StreamingTest(StubTestCase):
    def test_each_chunk_arrives_before_the_rest_is_sent(self) -> None:
        gate = threading.Event()
        released: List[bool] = []
        stub.reset(_stub.stream(["first", "second"], gate=gate, gate_result=released))
        with self.client().chat.completions.create(model="m", messages=[], stream=True) as chunks:
            iterator = iter(chunks)
            next(iterator)  # role chunk
            first = next(iterator)
            self.assertEqual(first.choices[0].delta.content, "first")
            gate.set()  # only now does the server send the rest
            rest = [c.choices[0].delta.get("content") for c in iterator if c.choices]
        self.assertEqual(released, [True])
        self.assertEqual(rest, [" second", None])

    def test_silent_stream_times_out(self) -> None:
        gate = threading.Event()
        stub.reset(_stub.stream(["a", "b"], gate=gate, gate_timeout=3))
        try:
            stream = self.client(timeout=0.5).chat.completions.create(model="m", messages=[], stream=True)
            with self.assertRaises(APITimeoutError):
                list(stream)
        finally:
            gate.set()

    def test_json_answer_to_a_stream_request_is_an_error(self) -> None:
        stub.reset(lambda h, b: h.send_json(200, _stub.completion_body("m", "not a stream")))
        with self.assertRaises(APIError) as caught:
            self.client().chat.completions.create(model="m", messages=[], stream=True)
        self.assertIn("event stream", str(caught.exception))


class FailureShapesTest(StubTestCase):
    def test_timeout_is_retried_then_raised(self) -> None:
        stub.reset(_stub.hang(2), _stub.hang(2))
        started = time.monotonic()
        with self.assertRaises(APITimeoutError) as caught:
            self.client(timeout=0.3, max_retries=1).models.list()
        self.assertLess(time.monotonic() - started, 1.9)
        self.assertEqual(len(self.waits), 1)
        self.assertIsNone(caught.exception.status)

    def test_error_body_that_is_not_json(self) -> None:
        stub.reset(_stub.raw(502, "<html>Bad Gateway</html>", "text/html"))
        with self.assertRaises(InternalServerError) as caught:
            self.client(max_retries=0).models.list()
        self.assertEqual(caught.exception.status, 502)
        self.assertIn("Bad Gateway", caught.exception.message)
        self.assertIsNone(caught.exception.code)

    def test_answer_that_is_not_json(self) -> None:
        stub.reset(_stub.raw(200, "hello", "text/plain"))
        with self.assertRaises(APIError) as caught:
            self.client().models.list()
        self.assertEqual(caught.exception.status, 200)

    def test_redirects_are_not_followed(self) -> None:
        stub.reset(_stub.raw(307, "", headers={"Location": stub.url + "/elsewhere"}))
        with self.assertRaises(APIError) as caught:
            self.client().models.list()
        self.assertEqual(caught.exception.status, 307)
        self.assertEqual(len(stub.requests), 1)

    def test_key_echoed_by_a_server_is_redacted(self) -> None:
        stub.reset(_stub.error(401, f"Incorrect API key provided: {SECRET}", "authentication_error", "invalid_api_key", {"x-request-id": "req_42"}))
        with self.assertRaises(APIError) as caught:
            self.client().models.list()
        error = caught.exception
        rendered = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        for text in (str(error), repr(error), rendered, str(error.body), error.message):
            self.assertNotIn(SECRET, text)
        self.assertIn("***", error.message)
        self.assertEqual(error.request_id, "req_42")
        self.assertEqual(error.headers.get("X-Request-Id"), "req_42")


if __name__ == "__main__":
    unittest.main()
