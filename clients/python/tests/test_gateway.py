"""The client against a real gateway in development mode (any well-formed key is accepted),
with the built-in ``choreoai/echo`` model: completions, streams, models, embeddings, errors."""

from __future__ import annotations

import base64
import math
import os
import struct
import traceback
import unittest
from typing import List
from unittest import mock

from choreoai import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ChatCompletion,
    ChatCompletionChunk,
    ChoreoAI,
    ChoreoAIError,
    CreateEmbeddingResponse,
    Model,
    ModelList,
    NotFoundError,
    Stream,
)
from tests._gateway import DEV_KEY, Gateway

ECHO = "choreoai/echo"
gateway: Gateway


def setUpModule() -> None:
    global gateway
    gateway = Gateway({"CHOREOAI_MAX_BODY_BYTES": "65536"}).start()


def tearDownModule() -> None:
    gateway.stop()


def client(**kwargs: object) -> ChoreoAI:
    return ChoreoAI(api_key=DEV_KEY, base_url=gateway.base_url, **kwargs)  # type: ignore[arg-type]


def user(text: str) -> List[dict]:
    return [{"role": "system", "content": "be brief"}, {"role": "user", "content": text}]


class ChatTest(unittest.TestCase):
    def test_create(self) -> None:
        completion = client().chat.completions.create(model=ECHO, messages=user("Hello, gateway!"))
        self.assertIsInstance(completion, ChatCompletion)
        self.assertEqual(completion.object, "chat.completion")
        self.assertTrue(completion.id.startswith("chatcmpl-"))
        self.assertEqual(completion.model, ECHO)
        self.assertEqual(completion.choices[0].message.role, "assistant")
        self.assertEqual(completion.choices[0].message.content, "Hello, gateway!")
        self.assertEqual(completion.choices[0].finish_reason, "stop")
        self.assertGreater(completion.usage.prompt_tokens, 0)
        self.assertGreater(completion.usage.completion_tokens, 0)
        self.assertEqual(
            completion.usage.total_tokens,
            completion.usage.prompt_tokens + completion.usage.completion_tokens,
        )
        self.assertTrue(completion._request_id.startswith("req_"))
        plain = completion.to_dict()
        self.assertIs(type(plain["choices"][0]["message"]), dict)

    def test_positional_arguments_and_openai_parameters(self) -> None:
        completion = client().chat.completions.create(
            ECHO,
            user("with parameters"),
            temperature=0.5,
            top_p=0.9,
            max_tokens=50,
            n=1,
            stop=["\n\n"],
            presence_penalty=0,
            frequency_penalty=0,
            seed=1,
            user="tester",
            metadata={"suite": "python"},
        )
        self.assertEqual(completion.choices[0].message.content, "with parameters")

    def test_request_id_is_echoed(self) -> None:
        completion = client().chat.completions.create(
            model=ECHO, messages=user("id"), extra_headers={"x-request-id": "py-client-test-1"}
        )
        self.assertEqual(completion._request_id, "py-client-test-1")

    def test_stream(self) -> None:
        stream = client().chat.completions.create(
            model=ECHO,
            messages=user("one two three four"),
            stream=True,
            stream_options={"include_usage": True},
        )
        self.assertIsInstance(stream, Stream)
        self.assertTrue(stream.request_id.startswith("req_"))
        chunks = list(stream)
        self.assertTrue(all(isinstance(c, ChatCompletionChunk) for c in chunks))
        self.assertTrue(all(c.object == "chat.completion.chunk" for c in chunks))
        text = "".join(c.choices[0].delta.get("content") or "" for c in chunks if c.choices)
        self.assertEqual(text, "one two three four")
        self.assertGreater(len([c for c in chunks if c.choices]), 2)  # several pieces
        self.assertEqual([c.choices[0].finish_reason for c in chunks if c.choices][-1], "stop")
        self.assertEqual(chunks[-1].choices, [])
        self.assertGreater(chunks[-1].usage.prompt_tokens, 0)
        self.assertTrue(stream.closed)

    def test_stream_without_usage_and_early_close(self) -> None:
        c = client()
        with c.chat.completions.create(model=ECHO, messages=user("a b c d e f"), stream=True) as stream:
            first = next(iter(stream))
            self.assertEqual(first.choices[0].delta.role, "assistant")
        self.assertTrue(stream.closed)
        # The gateway is fine after a client went away mid-stream.
        again = c.chat.completions.create(model=ECHO, messages=user("still here"))
        self.assertEqual(again.choices[0].message.content, "still here")
        chunks = list(c.chat.completions.create(model=ECHO, messages=user("x y"), stream=True))
        self.assertTrue(all(c.choices for c in chunks))  # no usage chunk unless asked


class ModelsTest(unittest.TestCase):
    def test_list(self) -> None:
        models = client().models.list()
        self.assertIsInstance(models, ModelList)
        self.assertEqual(models.object, "list")
        ids = [m.id for m in models]
        self.assertIn(ECHO, ids)
        self.assertEqual(ids, [m.id for m in models.data])
        self.assertTrue(all(isinstance(m, Model) and m.object == "model" for m in models))

    def test_retrieve(self) -> None:
        model = client().models.retrieve(ECHO)
        self.assertIsInstance(model, Model)
        self.assertEqual(model.id, ECHO)
        self.assertEqual(model.owned_by, "choreoai")

    def test_retrieve_unknown(self) -> None:
        with self.assertRaises(NotFoundError) as caught:
            client().models.retrieve("no-such/model-xyz")
        self.assertEqual(caught.exception.status, 404)
        self.assertEqual(caught.exception.code, "model_not_found")


class EmbeddingsTest(unittest.TestCase):
    """Against the contract of ``POST /v1/embeddings`` with ``choreoai/echo``: deterministic
    unit-length vectors, 16 dimensions unless ``dimensions`` says otherwise."""

    def assertUnit(self, vector: List[float]) -> None:
        self.assertAlmostEqual(math.sqrt(sum(x * x for x in vector)), 1.0, places=4)

    def test_one_text(self) -> None:
        result = client().embeddings.create(model=ECHO, input="hello world")
        self.assertIsInstance(result, CreateEmbeddingResponse)
        self.assertEqual(result.object, "list")
        self.assertEqual(result.model, ECHO)
        self.assertEqual(len(result.data), 1)
        item = result.data[0]
        self.assertEqual((item.object, item.index), ("embedding", 0))
        self.assertEqual(len(item.embedding), 16)
        self.assertUnit(item.embedding)
        self.assertGreater(result.usage.prompt_tokens, 0)
        again = client().embeddings.create(model=ECHO, input="hello world")
        self.assertEqual(again.data[0].embedding, item.embedding)

    def test_several_texts_and_dimensions(self) -> None:
        result = client().embeddings.create(model=ECHO, input=["first", "second"], dimensions=8)
        self.assertEqual([d.index for d in result.data], [0, 1])
        for item in result.data:
            self.assertEqual(len(item.embedding), 8)
            self.assertUnit(item.embedding)
        self.assertNotEqual(result.data[0].embedding, result.data[1].embedding)

    def test_base64(self) -> None:
        floats = client().embeddings.create(model=ECHO, input="vector").data[0].embedding
        encoded = client().embeddings.create(model=ECHO, input="vector", encoding_format="base64")
        raw = base64.b64decode(encoded.data[0].embedding)
        decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
        self.assertEqual(len(decoded), 16)
        for a, b in zip(decoded, floats):
            self.assertAlmostEqual(a, b, places=5)


class ErrorsTest(unittest.TestCase):
    def test_bad_request(self) -> None:
        with self.assertRaises(BadRequestError) as caught:
            client().chat.completions.create(model=ECHO, messages="not a list")  # type: ignore[arg-type]
        error = caught.exception
        self.assertIs(type(error), BadRequestError)
        self.assertEqual(error.status, 400)
        self.assertEqual(error.type, "invalid_request_error")
        self.assertEqual(error.code, "invalid_request")
        self.assertEqual(error.param, "messages")
        self.assertIn("messages", error.message)
        self.assertTrue(error.request_id.startswith("req_"))
        self.assertEqual(error.headers.get("content-type"), "application/json")
        self.assertIn("invalid_request", str(error))

    def test_missing_messages(self) -> None:
        with self.assertRaises(BadRequestError) as caught:
            client().chat.completions.create(model=ECHO, messages=None)  # type: ignore[arg-type]
        self.assertEqual(caught.exception.param, "messages")

    def test_unknown_model_is_not_found(self) -> None:
        with self.assertRaises(BadRequestError) as caught:
            client().chat.completions.create(model="no-such-model-xyz", messages=user("x"))
        self.assertIsInstance(caught.exception, NotFoundError)
        self.assertEqual(caught.exception.status, 404)
        self.assertEqual(caught.exception.code, "model_not_found")

    def test_body_too_large(self) -> None:
        with self.assertRaises(BadRequestError) as caught:
            client(max_retries=0).chat.completions.create(model=ECHO, messages=user("x" * 100_000))
        self.assertEqual(caught.exception.status, 413)
        self.assertEqual(caught.exception.code, "request_too_large")

    def test_malformed_key_is_an_authentication_error(self) -> None:
        secret = "not a b64token key!"
        with self.assertRaises(AuthenticationError) as caught:
            ChoreoAI(api_key=secret, base_url=gateway.base_url).models.list()
        error = caught.exception
        self.assertEqual(error.status, 401)
        self.assertEqual(error.type, "authentication_error")
        self.assertEqual(error.code, "malformed_authorization")
        self.assertEqual(error.message, "Malformed Authorization header")
        rendered = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        self.assertNotIn(secret, rendered + repr(error))

    def test_all_are_api_errors(self) -> None:
        with self.assertRaises(APIError):
            client().models.retrieve("no-such/model-xyz")


class EnvironmentTest(unittest.TestCase):
    def test_key_and_base_url_from_environment(self) -> None:
        env = {"CHOREOAI_API_KEY": "sk-from-env-123", "CHOREOAI_BASE_URL": gateway.base_url}
        with mock.patch.dict(os.environ, env):
            c = ChoreoAI()
            completion = c.chat.completions.create(model=ECHO, messages=user("from env"))
        self.assertEqual(completion.choices[0].message.content, "from env")
        self.assertEqual(c.base_url, gateway.base_url)
        self.assertNotIn("sk-from-env-123", repr(c))

    def test_missing_key(self) -> None:
        env = {k: v for k, v in os.environ.items() if k != "CHOREOAI_API_KEY"}
        env["CHOREOAI_BASE_URL"] = gateway.base_url
        with mock.patch.dict(os.environ, env, clear=True):
            with self.assertRaises(ChoreoAIError) as caught:
                ChoreoAI()
        self.assertIn("CHOREOAI_API_KEY", str(caught.exception))


if __name__ == "__main__":
    unittest.main()
