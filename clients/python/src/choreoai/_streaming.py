"""Server-sent events: the decoder and the :class:`Stream` that ``stream=True`` returns.

The gateway streams a completion as SSE: one ``data: {json}`` event per chunk, then
``data: [DONE]``. A stream that fails midway ends instead with one event
``data: {"error": {"message", "type", "param", "code"}}`` and no ``[DONE]``; the stream raises it
as an :class:`~choreoai.APIError` (of the subclass its ``type`` names). A stream that stops
with neither raises :class:`~choreoai.APIConnectionError`: the answer is incomplete.

The body is read line by line as it arrives: each chunk is handed out as soon as the blank line
that ends its event has been read, never after the whole body.
"""

from __future__ import annotations

import json
import socket
from http.client import HTTPException
from types import TracebackType
from typing import (
    Any,
    Callable,
    Dict,
    Generic,
    Iterable,
    Iterator,
    List,
    Mapping,
    Optional,
    Type,
    TypeVar,
)

from ._errors import APIConnectionError, APIError, APITimeoutError, error_class_for_type

__all__ = ["ServerSentEvent", "SSEDecoder", "Stream", "iter_lines"]

T = TypeVar("T")


class ServerSentEvent:
    """One event: its ``event`` name (``None`` when unnamed), ``data`` text and ``id``."""

    __slots__ = ("event", "data", "id")

    def __init__(self, data: str, event: Optional[str] = None, id: Optional[str] = None) -> None:  # noqa: A002
        self.data = data
        self.event = event
        self.id = id

    def json(self) -> Any:
        """The data decoded as JSON."""
        return json.loads(self.data)

    def __repr__(self) -> str:
        return f"ServerSentEvent(event={self.event!r}, data={self.data!r}, id={self.id!r})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, ServerSentEvent):
            return NotImplemented
        return (self.event, self.data, self.id) == (other.event, other.data, other.id)


class SSEDecoder:
    """Assembles events from lines (WHATWG rules): ``data:`` lines joined by newlines, ``event:``,
    ``id:``, comments (``:``) and ``retry:`` ignored; a blank line ends the event."""

    def __init__(self) -> None:
        self._data: List[str] = []
        self._event: Optional[str] = None
        self._id: Optional[str] = None

    def decode(self, line: str) -> Optional[ServerSentEvent]:
        """Feeds one line (without its line ending); returns the event it completes, if any."""
        if line == "":
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event = value
        elif field == "id":
            if "\0" not in value:
                self._id = value
        # "retry" and unknown fields are ignored.
        return None

    def flush(self) -> Optional[ServerSentEvent]:
        """Ends the input: returns an event whose closing blank line never came, if any."""
        return self._dispatch()

    def _dispatch(self) -> Optional[ServerSentEvent]:
        if not self._data and self._event is None:
            return None
        if not self._data:
            self._event = None
            return None
        event = ServerSentEvent("\n".join(self._data), self._event, self._id)
        self._data = []
        self._event = None
        return event

    def feed_lines(self, lines: Iterable[str]) -> Iterator[ServerSentEvent]:
        """Decodes a whole sequence of lines (convenience for tests and tools)."""
        for line in lines:
            event = self.decode(line)
            if event is not None:
                yield event
        last = self.flush()
        if last is not None:
            yield last


def iter_lines(readline: Callable[[], bytes]) -> Iterator[str]:
    """Yields the lines read with ``readline`` (``\\n``, ``\\r\\n`` endings removed) until EOF."""
    while True:
        raw = readline()
        if not raw:
            return
        if raw.endswith(b"\n"):
            raw = raw[:-1]
            if raw.endswith(b"\r"):
                raw = raw[:-1]
        elif raw.endswith(b"\r"):
            raw = raw[:-1]
        yield raw.decode("utf-8", errors="replace")


class Stream(Generic[T]):
    """The chunks of a streamed answer, in order, each as soon as it arrives.

    Iterate over it (once); use it as a context manager, or call :meth:`close`, to release the
    connection when you stop early::

        with client.chat.completions.create(model=..., messages=..., stream=True) as stream:
            for chunk in stream:
                ...

    Attributes:
        request_id: the ``x-request-id`` response header.
        headers: the response headers.
    """

    def __init__(
        self,
        response: Any,
        cast: Callable[[Dict[str, Any]], T],
        *,
        request_id: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        redact: Optional[Callable[[str], str]] = None,
    ) -> None:
        self.response = response
        self.request_id = request_id
        self.headers: Mapping[str, str] = headers if headers is not None else {}
        self._cast = cast
        self._redact = redact or (lambda text: text)
        self._closed = False
        self._iterator = self._chunks()

    def __iter__(self) -> Iterator[T]:
        return self._iterator

    def __next__(self) -> T:
        return next(self._iterator)

    def __enter__(self) -> "Stream[T]":
        return self

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.close()

    @property
    def closed(self) -> bool:
        """Whether the connection has been released."""
        return self._closed

    def close(self) -> None:
        """Releases the connection; iterating afterwards yields nothing more."""
        if self._closed:
            return
        self._closed = True
        try:
            self.response.close()
        except Exception:  # pragma: no cover - closing must never raise
            pass

    def _chunks(self) -> Iterator[T]:
        decoder = SSEDecoder()
        try:
            for event in self._events(decoder):
                if event.data == "[DONE]":
                    return
                yield self._cast(self._decode(event))
            if not self._closed:
                raise APIConnectionError(
                    "The stream ended before it was complete (no [DONE] event)",
                    request_id=self.request_id,
                    headers=self.headers,
                )
        finally:
            self.close()

    def _events(self, decoder: SSEDecoder) -> Iterator[ServerSentEvent]:
        for line in iter_lines(self._readline):
            event = decoder.decode(line)
            if event is not None:
                yield event
        last = decoder.flush()
        if last is not None:
            yield last

    def _readline(self) -> bytes:
        if self._closed:
            return b""
        try:
            line: bytes = self.response.readline()
            return line
        except socket.timeout as error:  # TimeoutError from 3.10 on
            raise APITimeoutError(
                "The stream stayed silent longer than the timeout",
                request_id=self.request_id,
                headers=self.headers,
            ) from error
        except (OSError, HTTPException, ValueError) as error:
            if self._closed:
                return b""
            raise APIConnectionError(
                self._redact(f"The stream broke off: {type(error).__name__}: {error}"),
                request_id=self.request_id,
                headers=self.headers,
            ) from error

    def _decode(self, event: ServerSentEvent) -> Dict[str, Any]:
        try:
            data = event.json()
        except ValueError:
            raise APIError(
                self._redact(f"The stream sent an event that is not JSON: {event.data[:200]!r}"),
                request_id=self.request_id,
                headers=self.headers,
            ) from None
        if isinstance(data, dict) and data.get("error") is not None:
            raise _stream_error(data, self.request_id, self.headers, self._redact)
        if not isinstance(data, dict):
            raise APIError(
                "The stream sent an event that is not a JSON object",
                request_id=self.request_id,
                headers=self.headers,
            )
        return data


def _stream_error(
    data: Dict[str, Any],
    request_id: Optional[str],
    headers: Mapping[str, str],
    redact: Callable[[str], str],
) -> APIError:
    error = data.get("error")
    if isinstance(error, dict):
        message = error.get("message")
        error_type = error.get("type")
        code = error.get("code")
        param = error.get("param")
    else:
        message, error_type, code, param = error, None, None, None
    cls = error_class_for_type(error_type if isinstance(error_type, str) else None)
    return cls(
        redact(str(message) if message is not None else "The stream failed"),
        status=None,
        type=error_type if isinstance(error_type, str) else None,
        code=str(code) if code is not None else None,
        param=str(param) if param is not None else None,
        request_id=request_id,
        headers=headers,
        body=_redact_json(data, redact),
    )


def _redact_json(data: Any, redact: Callable[[str], str]) -> Any:
    try:
        return json.loads(redact(json.dumps(data)))
    except ValueError:  # pragma: no cover - redaction never breaks JSON for a token
        return None
