"""The :class:`ChoreoAI` client: HTTP with ``urllib.request``, retries, redaction of the key."""

from __future__ import annotations

import json
import logging
import os
import random
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from http.client import HTTPException
from typing import (
    Any,
    Callable,
    Dict,
    Mapping,
    Optional,
    Type,
    TypeVar,
)

from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    ChoreoAIError,
    error_class_for_status,
    parse_retry_after,
    parse_should_retry,
)
from ._streaming import Stream
from ._types import ChoreoObject
from ._resources import Chat, Embeddings, Models
from ._version import __version__

__all__ = ["ChoreoAI", "DEFAULT_BASE_URL", "DEFAULT_TIMEOUT", "DEFAULT_MAX_RETRIES"]

log = logging.getLogger("choreoai")

DEFAULT_BASE_URL = "http://localhost:8000/v1"
"""Where the gateway listens by default (``CHOREOAI_BASE_URL`` overrides it)."""
DEFAULT_TIMEOUT = 600.0
"""Seconds to wait for a connection, for the answer's headers, and between two reads."""
DEFAULT_MAX_RETRIES = 2
"""Retries after the first attempt, for 429, 500, 502, 503, 504 and connection failures
(``x-should-retry: true`` or ``false`` on an answer overrides its status)."""

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RETRY_AFTER = 60.0
"""A ``Retry-After`` longer than this (seconds) is not waited for: the error is raised at once."""
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 8.0
_MAX_ERROR_BODY = 1 << 20
_REDACTED = "***"
_MIN_REDACTED_LENGTH = 6

R = TypeVar("R", bound=ChoreoObject)
_KEEP: Any = object()


class _Secret:
    """Holds the API key; its ``repr`` and ``str`` never show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return repr(_REDACTED)

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("The API key is not picklable")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Refuses redirects, so the Authorization header never travels to another address."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class ChoreoAI:
    """A client for the ChoreoAI gateway (and any OpenAI-compatible server).

    Args:
        api_key: the gateway key, sent as ``Authorization: Bearer <key>``. When ``None``, the
            ``CHOREOAI_API_KEY`` environment variable; without either, :class:`ChoreoAIError`.
        base_url: the API root, ``/v1`` included. When ``None``, ``CHOREOAI_BASE_URL``, else
            ``http://localhost:8000/v1``.
        timeout: seconds to wait for the connection, for the answer, and between two reads of a
            stream (``None``: wait for ever).
        max_retries: how many times a failed request is tried again: on 429, 500, 502, 503, 504
            and on connection failures, waiting ``Retry-After`` when the server sends one
            (at most 60 s; longer means no retry) or else 0.5 s, 1 s, 2 s, ... (at most 8 s,
            with jitter). An answer with ``x-should-retry: false`` is never retried, one with
            ``x-should-retry: true`` is retried whatever its status, as OpenAI's SDKs do. A
            stream is never retried once its answer has started.
        default_headers: headers sent with every request.

    Attributes:
        chat: ``client.chat.completions.create(...)``.
        models: ``client.models.list()``, ``client.models.retrieve(id)``.
        embeddings: ``client.embeddings.create(...)``.

    The key is never shown by ``repr(client)``, nor put in any exception's text.
    """

    def __init__(
        self,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout: Optional[float] = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        default_headers: Optional[Mapping[str, str]] = None,
    ) -> None:
        if api_key is None:
            api_key = os.environ.get("CHOREOAI_API_KEY")
        api_key = (api_key or "").strip()
        if not api_key:
            raise ChoreoAIError(
                "No API key given: pass api_key=... to ChoreoAI() or set the "
                "CHOREOAI_API_KEY environment variable."
            )
        if any(ord(c) < 0x20 or ord(c) > 0x7E for c in api_key):
            raise ChoreoAIError(
                "The API key contains characters that cannot be sent in an HTTP header "
                "(control or non-ASCII characters); check how it was copied."
            )
        if base_url is None:
            base_url = os.environ.get("CHOREOAI_BASE_URL") or DEFAULT_BASE_URL
        base_url = base_url.strip().rstrip("/")
        scheme = urllib.parse.urlsplit(base_url).scheme
        if scheme not in ("http", "https"):
            raise ChoreoAIError(
                f"base_url must be an http:// or https:// URL, got {base_url!r}"
            )
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError("max_retries must be an integer >= 0")
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be a number of seconds > 0, or None")

        self._api_key = _Secret(api_key)
        self._base_url = base_url
        self.timeout = timeout
        self.max_retries = max_retries
        self.default_headers: Dict[str, str] = dict(default_headers or {})
        self._opener = urllib.request.build_opener(_NoRedirect())
        # Seams for tests: how to wait, and the jitter source.
        self._sleep: Callable[[float], None] = time.sleep
        self._random: Callable[[], float] = random.random

        self.chat = Chat(self)
        self.models = Models(self)
        self.embeddings = Embeddings(self)

    # -- public properties -------------------------------------------------------------------

    @property
    def api_key(self) -> str:
        """The API key in use (never part of ``repr(client)``)."""
        return self._api_key.reveal()

    @property
    def base_url(self) -> str:
        """The API root, without a trailing slash."""
        return self._base_url

    def __repr__(self) -> str:
        return (
            f"ChoreoAI(base_url={self._base_url!r}, api_key={_REDACTED!r}, "
            f"timeout={self.timeout!r}, max_retries={self.max_retries!r})"
        )

    def with_options(
        self,
        *,
        timeout: Optional[float] = _KEEP,
        max_retries: Optional[int] = None,
        base_url: Optional[str] = None,
    ) -> "ChoreoAI":
        """A copy of this client with some settings changed (the key stays the same)."""
        return ChoreoAI(
            api_key=self._api_key.reveal(),
            base_url=base_url if base_url is not None else self._base_url,
            timeout=self.timeout if timeout is _KEEP else timeout,
            max_retries=self.max_retries if max_retries is None else max_retries,
            default_headers=self.default_headers,
        )

    def close(self) -> None:
        """Nothing to release (each request uses its own connection); kept for symmetry."""

    def __enter__(self) -> "ChoreoAI":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    # -- HTTP --------------------------------------------------------------------------------

    def _redact(self, text: str) -> str:
        key = self._api_key.reveal()
        if len(key) >= _MIN_REDACTED_LENGTH and key in text:
            text = text.replace(key, _REDACTED)
        return text

    def _headers(self, stream: bool, has_body: bool, extra: Optional[Mapping[str, Any]]) -> Dict[str, str]:
        headers: Dict[str, str] = {
            "Accept": "text/event-stream" if stream else "application/json",
            "User-Agent": f"choreoai-python/{__version__}",
        }
        if has_body:
            headers["Content-Type"] = "application/json"
        merged: Dict[str, Any] = {**self.default_headers, **(extra or {})}
        lower = {name.lower(): name for name in headers}
        for name, value in merged.items():
            existing = lower.get(name.lower())
            if existing is not None:
                del headers[existing]
            if value is not None and name.lower() != "authorization":
                headers[name] = str(value)
                lower[name.lower()] = name
        headers["Authorization"] = f"Bearer {self._api_key.reveal()}"
        return headers

    def _url(self, path: str, query: Optional[Mapping[str, Any]]) -> str:
        url = self._base_url + path
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(
                {k: v for k, v in query.items() if v is not None}, doseq=True
            )
        return url

    def _request(
        self,
        method: str,
        path: str,
        cast: Type[R],
        *,
        body: Optional[Mapping[str, Any]] = None,
        stream: bool = False,
        stream_cast: Optional[Type[ChoreoObject]] = None,
        extra_headers: Optional[Mapping[str, Any]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
    ) -> Any:
        url = self._url(path, extra_query)
        data = (
            json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            if body is not None
            else None
        )
        effective_timeout = self.timeout if timeout is None else timeout
        retries_taken = 0
        while True:
            outcome = self._attempt(method, url, data, stream, extra_headers, effective_timeout)
            if not isinstance(outcome, APIError):
                if stream:
                    return self._open_stream(outcome, stream_cast or ChoreoObject)
                return self._read_json(outcome, cast)
            error = outcome
            delay = self._retry_delay(error, retries_taken)
            if delay is None:
                raise error
            retries_taken += 1
            log.info(
                "%s %s failed (%s); retry %d of %d in %.2f s",
                method,
                path,
                error.status if error.status is not None else type(error).__name__,
                retries_taken,
                self.max_retries,
                delay,
            )
            self._sleep(delay)

    def _attempt(
        self,
        method: str,
        url: str,
        data: Optional[bytes],
        stream: bool,
        extra_headers: Optional[Mapping[str, Any]],
        timeout: Optional[float],
    ) -> Any:
        """One try: the open response when its status is 2xx, else the error to raise."""
        request = urllib.request.Request(
            url,
            data=data,
            method=method,
            headers=self._headers(stream, data is not None, extra_headers),
        )
        try:
            if timeout is None:
                response = self._opener.open(request)
            else:
                response = self._opener.open(request, timeout=timeout)
        except urllib.error.HTTPError as http_error:
            return self._status_error(http_error)
        except urllib.error.URLError as url_error:
            reason = url_error.reason
            if isinstance(reason, socket.timeout):
                return _with_cause(APITimeoutError(), url_error)
            return _with_cause(
                APIConnectionError(self._redact(f"Connection error: {reason}")), url_error
            )
        except socket.timeout as timeout_error:
            return _with_cause(APITimeoutError(), timeout_error)
        except (OSError, HTTPException) as os_error:
            return _with_cause(
                APIConnectionError(
                    self._redact(f"Connection error: {type(os_error).__name__}: {os_error}")
                ),
                os_error,
            )
        if stream:
            return response
        # Read the whole body here, so that a failure while reading it can be retried.
        try:
            raw = response.read()
        except socket.timeout as timeout_error:
            response.close()
            return _with_cause(APITimeoutError(), timeout_error)
        except (OSError, HTTPException) as read_error:
            response.close()
            return _with_cause(
                APIConnectionError(
                    self._redact(
                        f"The answer broke off: {type(read_error).__name__}: {read_error}"
                    )
                ),
                read_error,
            )
        response.close()
        return _Body(raw, response.status, response.headers)

    def _status_error(self, http_error: urllib.error.HTTPError) -> APIError:
        status = http_error.code
        headers = http_error.headers
        try:
            raw = http_error.read(_MAX_ERROR_BODY)
        except Exception:
            raw = b""
        finally:
            http_error.close()
        text = self._redact(raw.decode("utf-8", errors="replace"))
        body: Any = None
        message: Optional[str] = None
        error_type = code = param = None
        try:
            body = json.loads(text) if text else None
        except ValueError:
            body = text
        if isinstance(body, dict):
            detail = body.get("error")
            if isinstance(detail, dict):
                message = _text(detail.get("message"))
                error_type = _text(detail.get("type"))
                code = _text(detail.get("code"))
                param = _text(detail.get("param"))
            elif isinstance(detail, str):
                message = detail
            elif isinstance(body.get("message"), str):
                message = body["message"]
        if not message:
            snippet = text.strip()[:500]
            message = snippet or f"HTTP {status} {http_error.reason or ''}".strip()
        cls = error_class_for_status(status)
        return cls(
            message,
            status=status,
            type=error_type,
            code=code,
            param=param,
            request_id=headers.get("x-request-id") if headers is not None else None,
            headers=headers if headers is not None else {},
            body=body,
        )

    def _retry_delay(self, error: APIError, retries_taken: int) -> Optional[float]:
        """Seconds to wait before the next try, or ``None`` to raise ``error`` now."""
        if retries_taken >= self.max_retries:
            return None
        if not isinstance(error, APIConnectionError):
            # The server's ``x-should-retry`` wins over the status, as in OpenAI's SDKs.
            wish = parse_should_retry(error.headers)
            if wish is False or (wish is None and error.status not in RETRY_STATUSES):
                return None
        retry_after = parse_retry_after(error.headers)
        if retry_after is not None:
            return retry_after if retry_after <= MAX_RETRY_AFTER else None
        backoff = min(INITIAL_BACKOFF * (2.0**retries_taken), MAX_BACKOFF)
        return backoff * (1.0 - 0.25 * self._random())

    def _read_json(self, body: "_Body", cast: Type[R]) -> R:
        try:
            data = json.loads(body.raw.decode("utf-8"))
        except ValueError:
            raise APIError(
                self._redact(f"The answer is not JSON: {body.raw[:200]!r}"),
                status=body.status,
                request_id=body.headers.get("x-request-id"),
                headers=body.headers,
            ) from None
        if not isinstance(data, dict):
            raise APIError(
                "The answer is not a JSON object",
                status=body.status,
                request_id=body.headers.get("x-request-id"),
                headers=body.headers,
                body=data,
            )
        result = cast(data)
        result._request_id = body.headers.get("x-request-id")
        return result

    def _open_stream(self, response: Any, cast: Type[ChoreoObject]) -> Stream[Any]:
        headers = response.headers
        request_id = headers.get("x-request-id")
        content_type = (headers.get("content-type") or "").lower()
        if not content_type.startswith("text/event-stream"):
            try:
                raw = response.read(_MAX_ERROR_BODY)
            except Exception:
                raw = b""
            finally:
                response.close()
            raise APIError(
                self._redact(
                    f"Expected an event stream, got {content_type or 'no content type'}: "
                    f"{raw[:200]!r}"
                ),
                status=response.status,
                request_id=request_id,
                headers=headers,
            )
        return Stream(response, cast, request_id=request_id, headers=headers, redact=self._redact)


class _Body:
    __slots__ = ("raw", "status", "headers")

    def __init__(self, raw: bytes, status: int, headers: Any) -> None:
        self.raw = raw
        self.status = status
        self.headers = headers


def _with_cause(error: APIError, cause: BaseException) -> APIError:
    error.__cause__ = cause
    return error


def _text(value: Any) -> Optional[str]:
    return None if value is None else str(value)
