"""The exceptions this package raises.

Hierarchy::

    ChoreoAIError                  anything from this package (e.g. no API key configured)
    └── APIError                   the gateway refused or failed a request (generic: 5xx and others)
        ├── APIConnectionError     no answer: refused connection, reset, DNS, broken stream (status None)
        │   └── APITimeoutError    no answer within ``timeout`` seconds
        ├── BadRequestError        400 and the other 4xx about the request (404, 405, 408, 413, 415, ...)
        │   └── NotFoundError      404 (unknown model or path)
        ├── AuthenticationError    401
        ├── PermissionDeniedError  403
        ├── RateLimitError         429
        └── InternalServerError    5xx

Every :class:`APIError` carries the fields of the gateway's error body
``{"error": {"message", "type", "param", "code"}}`` as ``message``, ``type``, ``param`` and
``code``, plus the HTTP ``status`` (``None`` when there was no HTTP answer, or for an error event
that ended a stream), the ``request_id`` (the ``x-request-id`` response header) and the response
``headers``. The API key never appears in any of them: the client removes it from any text it is
given before building an error.
"""

from __future__ import annotations

from typing import Any, Optional, Type

__all__ = [
    "ChoreoAIError",
    "APIError",
    "APIConnectionError",
    "APITimeoutError",
    "BadRequestError",
    "NotFoundError",
    "AuthenticationError",
    "PermissionDeniedError",
    "RateLimitError",
    "InternalServerError",
    "error_class_for_status",
    "error_class_for_type",
    "parse_retry_after",
]


class ChoreoAIError(Exception):
    """Base class of every exception raised by the ``choreoai`` package."""


class APIError(ChoreoAIError):
    """The gateway refused or failed a request.

    Attributes:
        message: the human-readable message (the gateway's ``error.message``).
        status: the HTTP status, or ``None`` (no HTTP answer, or an error event mid-stream).
        type: ``error.type``, e.g. ``"invalid_request_error"``, ``"api_error"``.
        code: ``error.code``, e.g. ``"invalid_api_key"``, ``"rate_limit_exceeded"``.
        param: ``error.param``: the request field at fault, when known.
        request_id: the ``x-request-id`` response header, to quote in a bug report.
        headers: the response headers (case-insensitive ``.get``), or an empty mapping.
        body: the decoded error body (a dict), the raw text, or ``None``.
    """

    status: Optional[int]

    def __init__(
        self,
        message: str,
        *,
        status: Optional[int] = None,
        type: Optional[str] = None,  # noqa: A002 - the field's name in the wire format
        code: Optional[str] = None,
        param: Optional[str] = None,
        request_id: Optional[str] = None,
        headers: Any = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.type = type
        self.code = code
        self.param = param
        self.request_id = request_id
        # http.client's HTTPMessage (case-insensitive .get), or a plain mapping.
        self.headers: Any = headers if headers is not None else {}
        self.body = body

    @property
    def status_code(self) -> Optional[int]:
        """Alias of :attr:`status` (the name the ``openai`` package uses)."""
        return self.status

    @property
    def retry_after(self) -> Optional[float]:
        """Seconds the server asked to wait (``Retry-After`` / ``retry-after-ms``), if it did."""
        return parse_retry_after(self.headers)

    def __str__(self) -> str:
        parts = []
        if self.status is not None:
            parts.append(str(self.status))
        label = "/".join(str(x) for x in (self.type, self.code) if x)
        if label:
            parts.append(label)
        prefix = " ".join(parts)
        text = f"{prefix}: {self.message}" if prefix else self.message
        if self.param:
            text += f" (param: {self.param})"
        if self.request_id:
            text += f" [request_id: {self.request_id}]"
        return text

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(message={self.message!r}, status={self.status!r}, "
            f"type={self.type!r}, code={self.code!r}, param={self.param!r}, "
            f"request_id={self.request_id!r})"
        )


class APIConnectionError(APIError):
    """No HTTP answer: the connection failed, was reset, or a stream broke off (``status`` is None)."""

    def __init__(self, message: str = "Connection error", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class APITimeoutError(APIConnectionError):
    """The gateway did not answer (or a stream stayed silent) within the client's ``timeout``."""

    def __init__(self, message: str = "Request timed out", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)


class BadRequestError(APIError):
    """400 and the other 4xx statuses about the request itself (``invalid_request_error``)."""


class NotFoundError(BadRequestError):
    """404: an unknown model (``model_not_found``) or path (``not_found``)."""


class AuthenticationError(APIError):
    """401: missing, malformed, unknown, revoked or expired API key."""


class PermissionDeniedError(APIError):
    """403: the key may not use this model, endpoint, or client address."""


class RateLimitError(APIError):
    """429: the key's request or token limit is reached; see :attr:`retry_after`."""


class InternalServerError(APIError):
    """5xx: the gateway or the provider behind it failed (502, 503, 504, 500)."""


_BY_STATUS = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
}

_BY_TYPE = {
    "invalid_request_error": BadRequestError,
    "authentication_error": AuthenticationError,
    "permission_error": PermissionDeniedError,
    "rate_limit_error": RateLimitError,
}


def error_class_for_status(status: int) -> Type[APIError]:
    """The exception class for an HTTP error status."""
    cls = _BY_STATUS.get(status)
    if cls is not None:
        return cls
    if 400 <= status < 500:
        return BadRequestError
    if 500 <= status < 600:
        return InternalServerError
    return APIError


def error_class_for_type(error_type: Optional[str]) -> Type[APIError]:
    """The exception class for an error event inside a stream (no HTTP status there)."""
    return _BY_TYPE.get(error_type or "", APIError)


MAX_RETRY_AFTER_HEADER = 24 * 3600.0


def header_value(headers: Any, name: str) -> Optional[str]:
    """The value of header ``name`` (lower case) in ``headers``, or ``None``.

    ``headers`` is an ``http.client.HTTPMessage`` (case-insensitive already) or a plain dict.
    """
    if not headers:
        return None
    getter = getattr(headers, "get", None)
    if getter is None:
        return None
    value: Optional[str] = getter(name)
    if value is None and not hasattr(headers, "get_all"):
        # A plain dict: look the name up case-insensitively.
        for key, item in headers.items():
            if key.lower() == name:
                return str(item)
    return value


def parse_should_retry(headers: Any) -> Optional[bool]:
    """The server's word on retrying, from ``x-should-retry`` as OpenAI's SDKs read it.

    ``True`` for exactly ``true``, ``False`` for exactly ``false``, else ``None`` (no word).
    """
    value = header_value(headers, "x-should-retry")
    if value == "true":
        return True
    if value == "false":
        return False
    return None


def parse_retry_after(headers: Any) -> Optional[float]:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or an HTTP date).

    Returns ``None`` when neither header is present or readable.
    """

    def header(name: str) -> Optional[str]:
        return header_value(headers, name)

    ms = header("retry-after-ms")
    if ms is not None:
        try:
            value = float(ms) / 1000.0
            if value == value:  # not NaN
                return min(max(value, 0.0), MAX_RETRY_AFTER_HEADER)
        except ValueError:
            pass
    raw = header("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    seconds: Optional[float]
    try:
        seconds = float(raw)
    except ValueError:
        seconds = _seconds_until_http_date(raw)
    if seconds is None or seconds != seconds:  # NaN
        return None
    return min(max(seconds, 0.0), MAX_RETRY_AFTER_HEADER)


def _seconds_until_http_date(text: str) -> Optional[float]:
    import email.utils
    import time

    try:
        parsed = email.utils.parsedate_tz(text)
    except (TypeError, ValueError):
        return None
    if parsed is None:
        return None
    return max(0.0, email.utils.mktime_tz(parsed) - time.time())
