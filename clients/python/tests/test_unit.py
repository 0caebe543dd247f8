"""Unit tests: SSE decoding, response objects, errors, configuration. No network."""

from __future__ import annotations

import io
import json
import os
import pickle
import traceback
import unittest
from email.message import Message
from typing import Any, List
from unittest import mock

import choreoai
from choreoai import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChatCompletionChunk,
    ChoreoAI,
    ChoreoAIError,
    ChoreoObject,
    InternalServerError,
    ModelList,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    Stream,
)
from choreoai._errors import error_class_for_status, error_class_for_type, parse_retry_after
from choreoai._streaming import SSEDecoder, iter_lines

SECRET = "sk-very-secret-key-0123456789"


class FakeResponse:
    """Just enough of ``http.client.HTTPResponse`` for :class:`Stream`."""

    def __init__(self, body: bytes, fail_after: int = -1) -> None:
        self._buffer = io.BytesIO(body)
        self.closed = False
        self.lines_read = 0
        self._fail_after = fail_after

    def readline(self) -> bytes:
        if self.lines_read == self._fail_after:
            raise ConnectionResetError("connection reset by peer")
        self.lines_read += 1
        return self._buffer.readline()

    def close(self) -> None:
        self.closed = True


def sse(*events: Any) -> bytes:
    return "".join(
        f"data: {e if isinstance(e, str) else json.dumps(e)}\n\n" for e in events
    ).encode("utf-8")


CHUNK = {"id": "c1", "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {"content": "hi"}}]}


class SSEDecoderTest(unittest.TestCase):
    def decode(self, text: str) -> List[Any]:
        return list(SSEDecoder().feed_lines(text.split("\n")))

    def test_data_lines_and_blank_line(self) -> None:
        events = self.decode('data: {"a":1}\n\ndata: [DONE]\n\n')
        self.assertEqual([e.data for e in events], ['{"a":1}', "[DONE]"])

    def test_multi_line_data_comments_fields(self) -> None:
        events = self.decode(": keep-alive\nevent: note\nid: 7\nretry: 10\ndata:one\ndata: two\n\n")
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0].data, "one\ntwo")
        self.assertEqual(events[0].event, "note")
        self.assertEqual(events[0].id, "7")

    def test_event_without_closing_blank_line_is_flushed(self) -> None:
        self.assertEqual([e.data for e in self.decode("data: last")], ["last"])

    def test_event_name_without_data_is_dropped(self) -> None:
        self.assertEqual(self.decode("event: ping\n\n"), [])

    def test_iter_lines_strips_crlf(self) -> None:
        lines = list(iter_lines(io.BytesIO(b"data: a\r\n\r\ndata: \xc3\xa9\n").readline))
        self.assertEqual(lines, ["data: a", "", "data: é"])


class StreamTest(unittest.TestCase):
    def stream(self, body: bytes, **kwargs: Any) -> "tuple[Stream[Any], FakeResponse]":
        response = FakeResponse(body, **kwargs)
        return Stream(response, ChatCompletionChunk, request_id="req_1"), response

    def test_yields_chunks_until_done(self) -> None:
        stream, response = self.stream(sse(CHUNK, CHUNK, "[DONE]", CHUNK))
        chunks = list(stream)
        self.assertEqual(len(chunks), 2)
        self.assertIsInstance(chunks[0], ChatCompletionChunk)
        self.assertEqual(chunks[0].choices[0].delta.content, "hi")
        self.assertTrue(response.closed)

    def test_chunk_is_yielded_before_the_rest_is_read(self) -> None:
        stream, response = self.stream(sse(CHUNK, CHUNK, "[DONE]"))
        next(iter(stream))
        self.assertEqual(response.lines_read, 2)  # one event: its data line and blank line

    def test_error_event_raises_typed_error(self) -> None:
        error = {"error": {"message": "The provider's stream broke", "type": "api_error", "param": None, "code": "upstream_error"}}
        stream, response = self.stream(sse(CHUNK, error))
        received = []
        with self.assertRaises(APIError) as caught:
            for chunk in stream:
                received.append(chunk)
        self.assertEqual(len(received), 1)
        self.assertIs(type(caught.exception), APIError)
        self.assertEqual(caught.exception.code, "upstream_error")
        self.assertEqual(caught.exception.type, "api_error")
        self.assertIsNone(caught.exception.status)
        self.assertEqual(caught.exception.request_id, "req_1")
        self.assertTrue(response.closed)

    def test_error_event_type_picks_the_subclass(self) -> None:
        error = {"error": {"message": "slow down", "type": "rate_limit_error", "param": None, "code": "rate_limit_exceeded"}}
        stream, _ = self.stream(sse(error))
        with self.assertRaises(RateLimitError):
            list(stream)

    def test_end_without_done_is_a_connection_error(self) -> None:
        stream, _ = self.stream(sse(CHUNK))
        with self.assertRaises(APIConnectionError):
            list(stream)

    def test_reset_midway_is_a_connection_error(self) -> None:
        stream, _ = self.stream(sse(CHUNK, CHUNK, "[DONE]"), fail_after=2)
        iterator = iter(stream)
        next(iterator)
        with self.assertRaises(APIConnectionError) as caught:
            next(iterator)
        self.assertIsNone(caught.exception.status)

    def test_context_manager_closes(self) -> None:
        stream, response = self.stream(sse(CHUNK, CHUNK, "[DONE]"))
        with stream as s:
            next(iter(s))
        self.assertTrue(response.closed)
        self.assertTrue(stream.closed)
        self.assertEqual(list(stream), [])  # nothing more after close, and no error

    def test_non_json_event_is_an_api_error(self) -> None:
        stream, _ = self.stream(sse("not json"))
        with self.assertRaises(APIError):
            list(stream)


class ObjectTest(unittest.TestCase):
    def test_attribute_access_nested(self) -> None:
        obj = ChoreoObject({"choices": [{"message": {"content": "hi"}}], "usage": {"total_tokens": 3}})
        self.assertEqual(obj.choices[0].message.content, "hi")
        self.assertEqual(obj.usage.total_tokens, 3)
        self.assertEqual(obj["usage"]["total_tokens"], 3)
        self.assertIsInstance(obj.choices[0], ChoreoObject)

    def test_missing_attribute_is_none_like_openai_optional_fields(self) -> None:
        obj = ChoreoObject({"a": 1, "delta": {}})
        self.assertIsNone(obj.b)
        self.assertIsNone(obj.delta.content)
        self.assertNotIn("b", obj)
        self.assertIsNone(obj.get("b"))
        with self.assertRaises(AttributeError):
            obj._private  # noqa: B018

    def test_to_dict_is_plain_and_json_works(self) -> None:
        source = {"a": [{"b": {"c": None}}], "d": "e"}
        obj = ChoreoObject(source)
        plain = obj.to_dict()
        self.assertEqual(plain, source)
        self.assertIs(type(plain), dict)
        self.assertIs(type(plain["a"][0]), dict)
        self.assertEqual(json.loads(json.dumps(obj)), source)
        self.assertEqual(json.loads(obj.to_json()), source)
        self.assertEqual(obj, source)
        self.assertEqual(pickle.loads(pickle.dumps(obj)), source)

    def test_setattr_and_repr(self) -> None:
        obj = ChoreoObject()
        obj.x = {"y": 1}
        self.assertEqual(obj.x.y, 1)
        self.assertIn("'x'", repr(obj))

    def test_model_list_iterates_over_models(self) -> None:
        models = ModelList({"object": "list", "data": [{"id": "a"}, {"id": "b"}]})
        self.assertEqual([m.id for m in models], ["a", "b"])
        self.assertEqual(len(models), 2)
        self.assertEqual(models.data[1].id, "b")
        self.assertEqual(models.to_dict(), {"object": "list", "data": [{"id": "a"}, {"id": "b"}]})
        self.assertEqual(json.loads(json.dumps(models))["data"][0]["id"], "a")


class ErrorTest(unittest.TestCase):
    def test_status_mapping(self) -> None:
        expected = {
            400: BadRequestError,
            401: AuthenticationError,
            403: PermissionDeniedError,
            404: NotFoundError,
            405: BadRequestError,
            413: BadRequestError,
            415: BadRequestError,
            429: RateLimitError,
            500: InternalServerError,
            502: InternalServerError,
            503: InternalServerError,
            504: InternalServerError,
            302: APIError,
        }
        for status, cls in expected.items():
            self.assertIs(error_class_for_status(status), cls, status)
        self.assertTrue(issubclass(NotFoundError, BadRequestError))
        for cls in set(expected.values()) | {APIConnectionError, APITimeoutError}:
            self.assertTrue(issubclass(cls, APIError))
            self.assertTrue(issubclass(cls, ChoreoAIError))
        self.assertIs(error_class_for_type("permission_error"), PermissionDeniedError)
        self.assertIs(error_class_for_type("server_error"), APIError)

    def test_fields_and_text(self) -> None:
        error = BadRequestError(
            "Invalid value for 'messages'",
            status=400,
            type="invalid_request_error",
            code="invalid_request",
            param="messages",
            request_id="req_9",
        )
        text = str(error)
        for part in ("400", "invalid_request_error", "invalid_request", "messages", "req_9"):
            self.assertIn(part, text)
        self.assertEqual(error.status_code, 400)
        self.assertIn("BadRequestError", repr(error))

    def test_retry_after_parsing(self) -> None:
        self.assertEqual(parse_retry_after({"retry-after": "2"}), 2.0)
        self.assertEqual(parse_retry_after({"Retry-After": "1.5"}), 1.5)
        self.assertEqual(parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}), 0.25)
        self.assertIsNone(parse_retry_after({"retry-after": "soon"}))
        self.assertIsNone(parse_retry_after({}))
        self.assertEqual(parse_retry_after({"retry-after": "-3"}), 0.0)
        message = Message()
        message["Retry-After"] = "Wed, 21 Oct 2015 07:28:00 GMT"  # in the past
        self.assertEqual(parse_retry_after(message), 0.0)
        error = RateLimitError("slow", status=429, headers={"retry-after": "3"})
        self.assertEqual(error.retry_after, 3.0)


class ClientConfigTest(unittest.TestCase):
    def test_missing_key_names_the_variable(self) -> None:
        with mock.patch.dict(os.environ, {}, clear=True):
            with self.assertRaises(ChoreoAIError) as caught:
                ChoreoAI()
        self.assertIn("CHOREOAI_API_KEY", str(caught.exception))
        with mock.patch.dict(os.environ, {"CHOREOAI_API_KEY": "  "}, clear=True):
            with self.assertRaises(ChoreoAIError):
                ChoreoAI()

    def test_env_variables(self) -> None:
        env = {"CHOREOAI_API_KEY": SECRET, "CHOREOAI_BASE_URL": "http://gw.test:9000/v1/"}
        with mock.patch.dict(os.environ, env, clear=True):
            client = ChoreoAI()
            self.assertEqual(client.api_key, SECRET)
            self.assertEqual(client.base_url, "http://gw.test:9000/v1")
            explicit = ChoreoAI(api_key="sk-other-key", base_url="http://other:1/v1")
            self.assertEqual(explicit.api_key, "sk-other-key")
            self.assertEqual(explicit.base_url, "http://other:1/v1")
        with mock.patch.dict(os.environ, {"CHOREOAI_API_KEY": SECRET}, clear=True):
            self.assertEqual(ChoreoAI().base_url, "http://localhost:8000/v1")

    def test_defaults(self) -> None:
        client = ChoreoAI(api_key=SECRET)
        self.assertEqual(client.max_retries, 2)
        self.assertEqual(client.timeout, 600.0)
        copy = client.with_options(max_retries=0, timeout=5)
        self.assertEqual((copy.max_retries, copy.timeout, copy.api_key), (0, 5, SECRET))

    def test_key_never_in_repr(self) -> None:
        client = ChoreoAI(api_key=SECRET, base_url="http://127.0.0.1:1/v1")
        self.assertNotIn(SECRET, repr(client))
        self.assertNotIn(SECRET, str(client))
        self.assertNotIn(SECRET, repr(vars(client)))

    def test_bad_key_characters_are_refused_without_echo(self) -> None:
        with self.assertRaises(ChoreoAIError) as caught:
            ChoreoAI(api_key="sk-abc\r\nX-Evil: 1")
        self.assertNotIn("sk-abc", str(caught.exception))

    def test_bad_settings(self) -> None:
        with self.assertRaises(ChoreoAIError):
            ChoreoAI(api_key=SECRET, base_url="localhost:8000/v1")
        with self.assertRaises(ValueError):
            ChoreoAI(api_key=SECRET, max_retries=-1)

    def test_connection_error_retries_and_hides_the_key(self) -> None:
        from tests._gateway import closed_port

        client = ChoreoAI(api_key=SECRET, base_url=f"http://127.0.0.1:{closed_port()}/v1", max_retries=2)
        waits: List[float] = []
        client._sleep = waits.append
        client._random = lambda: 0.0
        with self.assertRaises(APIConnectionError) as caught:
            client.chat.completions.create(model="m", messages=[{"role": "user", "content": SECRET}])
        self.assertEqual(waits, [0.5, 1.0])
        self.assertIsNone(caught.exception.status)
        rendered = "".join(traceback.format_exception(type(caught.exception), caught.exception, caught.exception.__traceback__))
        self.assertNotIn(SECRET, rendered)

    def test_version(self) -> None:
        import re

        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        with open(os.path.join(root, "pyproject.toml"), encoding="utf-8") as handle:
            match = re.search(r'^version = "([^"]+)"', handle.read(), re.M)
        assert match is not None
        self.assertEqual(choreoai.__version__, match.group(1))


if __name__ == "__main__":
    unittest.main()
