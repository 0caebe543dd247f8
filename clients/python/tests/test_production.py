"""The client against a real gateway in production mode, with a key list made by the gateway's
CLI: wrong key (401), a model outside the key's scope (403), rate limits (429), a retry that
waits for ``Retry-After`` and then succeeds, and no retry for a request too large for the key's
tpm (``x-should-retry: false``)."""

from __future__ import annotations

import os
import tempfile
import time
import traceback
import unittest
from typing import Dict, List

from choreoai import (
    APIError,
    AuthenticationError,
    ChoreoAI,
    PermissionDeniedError,
    RateLimitError,
)
from tests._gateway import Gateway, create_key

ECHO = "choreoai/echo"
MESSAGES = [{"role": "user", "content": "hi"}]
gateway: Gateway
keys: Dict[str, str] = {}
_keys_dir: "tempfile.TemporaryDirectory[str]"


def setUpModule() -> None:
    global gateway, _keys_dir
    _keys_dir = tempfile.TemporaryDirectory(prefix="choreoai-py-keys-")
    keys_file = os.path.join(_keys_dir.name, "keys.json")
    keys["limited"] = create_key(keys_file, "limited", models=ECHO, rpm=2)
    keys["scoped"] = create_key(keys_file, "scoped", models=ECHO)
    keys["burst"] = create_key(keys_file, "burst", models=ECHO, rpm=60)
    keys["small_tpm"] = create_key(keys_file, "small_tpm", models=ECHO, rpm=10, tpm=1000)
    gateway = Gateway({"CHOREOAI_ENV": "production", "CHOREOAI_KEYS_FILE": keys_file}).start()


def tearDownModule() -> None:
    gateway.stop()
    _keys_dir.cleanup()


def client(key: str, **kwargs: object) -> ChoreoAI:
    return ChoreoAI(api_key=key, base_url=gateway.base_url, **kwargs)  # type: ignore[arg-type]


def rendered(error: BaseException) -> str:
    return "".join(traceback.format_exception(type(error), error, error.__traceback__)) + repr(error)


class AuthTest(unittest.TestCase):
    def test_wrong_key(self) -> None:
        wrong = "sk-wrong-key-0123456789abcdef"
        with self.assertRaises(AuthenticationError) as caught:
            client(wrong).chat.completions.create(model=ECHO, messages=MESSAGES)
        error = caught.exception
        self.assertEqual(error.status, 401)
        self.assertEqual(error.type, "authentication_error")
        self.assertEqual(error.code, "invalid_api_key")
        self.assertEqual(error.message, "Invalid API key provided")
        self.assertTrue(error.request_id.startswith("req_"))
        self.assertNotIn(wrong, rendered(error))

    def test_valid_key_works_and_lists_only_its_models(self) -> None:
        c = client(keys["scoped"])
        self.assertEqual(c.chat.completions.create(model=ECHO, messages=MESSAGES).choices[0].message.content, "hi")
        self.assertEqual([m.id for m in c.models.list()], [ECHO])

    def test_model_outside_the_scope(self) -> None:
        with self.assertRaises(PermissionDeniedError) as caught:
            client(keys["scoped"]).chat.completions.create(model="gpt-4o", messages=MESSAGES)
        error = caught.exception
        self.assertEqual(error.status, 403)
        self.assertEqual(error.type, "permission_error")
        self.assertEqual(error.code, "model_not_allowed")
        self.assertIsInstance(error, APIError)
        self.assertNotIn(keys["scoped"], rendered(error))


class RateLimitTest(unittest.TestCase):
    def test_limit_reached(self) -> None:
        c = client(keys["limited"], max_retries=0)
        for _ in range(2):  # rpm 2: a burst of two passes
            c.chat.completions.create(model=ECHO, messages=MESSAGES)
        with self.assertRaises(RateLimitError) as caught:
            c.chat.completions.create(model=ECHO, messages=MESSAGES)
        error = caught.exception
        self.assertEqual(error.status, 429)
        self.assertEqual(error.type, "rate_limit_error")
        self.assertEqual(error.code, "rate_limit_exceeded")
        self.assertGreaterEqual(int(error.headers["Retry-After"]), 1)
        self.assertGreaterEqual(error.retry_after, 1.0)
        self.assertEqual(error.headers.get("x-ratelimit-limit-requests"), "2")
        self.assertNotIn(keys["limited"], rendered(error))

    def test_retry_waits_for_retry_after_and_succeeds(self) -> None:
        # rpm 60: a burst of 60, then one more each second.
        drain = client(keys["burst"], max_retries=0)
        for _ in range(200):
            try:
                drain.chat.completions.create(model=ECHO, messages=MESSAGES)
            except RateLimitError as error:
                self.assertEqual(error.retry_after, 1.0)
                break
        else:
            self.fail("the rpm 60 key was never limited")

        waits: List[float] = []
        patient = client(keys["burst"], max_retries=1)

        def sleep(seconds: float) -> None:
            waits.append(seconds)
            time.sleep(seconds)

        patient._sleep = sleep
        started = time.monotonic()
        completion = patient.chat.completions.create(model=ECHO, messages=MESSAGES)
        elapsed = time.monotonic() - started
        self.assertEqual(completion.choices[0].message.content, "hi")
        self.assertEqual(waits, [1.0])  # one retry, after exactly the Retry-After
        self.assertGreaterEqual(elapsed, 0.95)
        self.assertLess(elapsed, 5)

    def test_request_too_large_for_the_tpm_is_not_retried(self) -> None:
        waits: List[float] = []
        c = client(keys["small_tpm"])  # the default max_retries=2
        c._sleep = waits.append
        remaining = []
        for _ in range(2):
            with self.assertRaises(RateLimitError) as caught:
                c.chat.completions.create(model=ECHO, messages=MESSAGES, max_tokens=5000)
            error = caught.exception
            self.assertEqual(error.code, "rate_limit_exceeded")
            self.assertIn("can never fit", error.message)
            self.assertIn("lower max_tokens to at most", error.message)
            self.assertIsNone(error.retry_after)
            self.assertEqual(error.headers.get("x-should-retry"), "false")
            self.assertEqual(error.headers.get("x-ratelimit-remaining-tokens"), "1000")
            remaining.append(error.headers.get("x-ratelimit-remaining-requests"))
        self.assertEqual(waits, [])  # each sent once
        self.assertEqual(remaining, ["9", "8"])  # each counted once


if __name__ == "__main__":
    unittest.main()
