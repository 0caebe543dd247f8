"""The API resources: ``client.chat.completions``, ``client.models``, ``client.embeddings``."""

from __future__ import annotations

from typing import (
    TYPE_CHECKING,
    Any,
    Dict,
    Iterable,
    Literal,
    Mapping,
    Optional,
    Sequence,
    Union,
    overload,
)

import urllib.parse

from ._streaming import Stream
from ._types import (
    ChatCompletion,
    ChatCompletionChunk,
    CreateEmbeddingResponse,
    Model,
    ModelList,
)

if TYPE_CHECKING:
    from ._client import ChoreoAI

__all__ = ["Chat", "Completions", "Models", "Embeddings"]


def _listify(value: Any) -> Any:
    """Iterables (tuples, generators) become lists for JSON; strings and mappings stay."""
    if value is None or isinstance(value, (str, bytes, list, Mapping)):
        return value
    try:
        return list(value)
    except TypeError:
        return value


def _params(params: Mapping[str, Any], extra_body: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
    """The request body: parameters set to ``None`` are left out; ``extra_body`` is merged last."""
    body = {key: value for key, value in params.items() if value is not None}
    if extra_body:
        body.update(extra_body)
    return body


class Chat:
    """``client.chat``: holds :attr:`completions`."""

    def __init__(self, client: ChoreoAI) -> None:
        self.completions = Completions(client)


class Completions:
    """``client.chat.completions``: ``POST /v1/chat/completions``."""

    def __init__(self, client: ChoreoAI) -> None:
        self._client = client

    @overload
    def create(
        self,
        model: str,
        messages: Iterable[Mapping[str, Any]],
        *,
        stream: Literal[False] = False,
        temperature: Optional[float] = None,
        top_p: Optional[float] = None,
        max_tokens: Optional[int] = None,
        max_completion_tokens: Optional[int] = None,
        n: Optional[int] = None,
        stop: Union[str, Sequence[str], None] = None,
        presence_penalty: Optional[float] = None,
        frequency_penalty: Optional[float] = None,
        seed: Optional[int] = None,
        user: Optional[str] = None,
        tools: Optional[Iterable[Mapping[str, Any]]] = None,
        tool_choice: Union[str, Mapping[str, Any], None] = None,
        response_format: Optional[Mapping[str, Any]] = None,
        stream_options: Optional[Mapping[str, Any]] = None,
        extra_headers: Optional[Mapping[str, Any]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
        **params: Any,
    ) -> ChatCompletion: ...

    @overload
    def create(
        self,
        model: str,
        messages: Iterable[Mapping[str, Any]],
        *,
        stream: Literal[True],
        temperature: Optional[float] = None,
        top_p: Optional[float] = None,
        max_tokens: Optional[int] = None,
        max_completion_tokens: Optional[int] = None,
        n: Optional[int] = None,
        stop: Union[str, Sequence[str], None] = None,
        presence_penalty: Optional[float] = None,
        frequency_penalty: Optional[float] = None,
        seed: Optional[int] = None,
        user: Optional[str] = None,
        tools: Optional[Iterable[Mapping[str, Any]]] = None,
        tool_choice: Union[str, Mapping[str, Any], None] = None,
        response_format: Optional[Mapping[str, Any]] = None,
        stream_options: Optional[Mapping[str, Any]] = None,
        extra_headers: Optional[Mapping[str, Any]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
        **params: Any,
    ) -> Stream[ChatCompletionChunk]: ...

    @overload
    def create(
        self,
        model: str,
        messages: Iterable[Mapping[str, Any]],
        *,
        stream: bool = False,
        temperature: Optional[float] = None,
        top_p: Optional[float] = None,
        max_tokens: Optional[int] = None,
        max_completion_tokens: Optional[int] = None,
        n: Optional[int] = None,
        stop: Union[str, Sequence[str], None] = None,
        presence_penalty: Optional[float] = None,
        frequency_penalty: Optional[float] = None,
        seed: Optional[int] = None,
        user: Optional[str] = None,
        tools: Optional[Iterable[Mapping[str, Any]]] = None,
        tool_choice: Union[str, Mapping[str, Any], None] = None,
        response_format: Optional[Mapping[str, Any]] = None,
        stream_options: Optional[Mapping[str, Any]] = None,
        extra_headers: Optional[Mapping[str, Any]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
        **params: Any,
    ) -> Union[ChatCompletion, Stream[ChatCompletionChunk]]: ...

    def create(
        self,
        model: str,
        messages: Iterable[Mapping[str, Any]],
        *,
        stream: bool = False,
        temperature: Optional[float] = None,
        top_p: Optional[float] = None,
        max_tokens: Optional[int] = None,
        max_completion_tokens: Optional[int] = None,
        n: Optional[int] = None,
        stop: Union[str, Sequence[str], None] = None,
        presence_penalty: Optional[float] = None,
        frequency_penalty: Optional[float] = None,
        seed: Optional[int] = None,
        user: Optional[str] = None,
        tools: Optional[Iterable[Mapping[str, Any]]] = None,
        tool_choice: Union[str, Mapping[str, Any], None] = None,
        response_format: Optional[Mapping[str, Any]] = None,
        stream_options: Optional[Mapping[str, Any]] = None,
        extra_headers: Optional[Mapping[str, Any]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
        **params: Any,
    ) -> Union[ChatCompletion, Stream[ChatCompletionChunk]]:
        """Creates a chat completion.

        Every OpenAI parameter is passed through as given: the ones named here, and any other
        keyword (``logprobs``, ``parallel_tool_calls``, ``reasoning_effort``, ``metadata``, ...).
        A parameter set to ``None`` is left out of the request.

        Args:
            model: the model name, e.g. ``"gpt-4o"`` or ``"choreoai/echo"``.
            messages: the conversation, OpenAI's message objects.
            stream: ``True`` returns a :class:`Stream` of :class:`ChatCompletionChunk`\\ s,
                each yielded as soon as it arrives.
            extra_headers: more request headers (``None`` as a value removes a default one).
            extra_query: query-string parameters.
            extra_body: more body fields, merged last.
            timeout: this request's timeout in seconds, instead of the client's.

        Returns:
            a :class:`ChatCompletion`, or a :class:`Stream` when ``stream=True``.

        Raises:
            APIError: or one of its subclasses; see the package documentation.
        """
        body = _params(
            {
                "model": model,
                "messages": _listify(messages),
                "stream": True if stream else None,
                "temperature": temperature,
                "top_p": top_p,
                "max_tokens": max_tokens,
                "max_completion_tokens": max_completion_tokens,
                "n": n,
                "stop": _listify(stop),
                "presence_penalty": presence_penalty,
                "frequency_penalty": frequency_penalty,
                "seed": seed,
                "user": user,
                "tools": _listify(tools),
                "tool_choice": tool_choice,
                "response_format": response_format,
                "stream_options": stream_options,
                **params,
            },
            extra_body,
        )
        return self._client._request(  # type: ignore[no-any-return]
            "POST",
            "/chat/completions",
            ChatCompletion,
            body=body,
            stream=bool(stream),
            stream_cast=ChatCompletionChunk,
            extra_headers=extra_headers,
            extra_query=extra_query,
            timeout=timeout,
        )


class Models:
    """``client.models``: ``GET /v1/models`` and ``GET /v1/models/{id}``."""

    def __init__(self, client: ChoreoAI) -> None:
        self._client = client

    def list(
        self,
        *,
        extra_headers: Optional[Mapping[str, Any]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
    ) -> ModelList:
        """The models this key may use: a :class:`ModelList` (iterate over it, or read ``.data``)."""
        return self._client._request(  # type: ignore[no-any-return]
            "GET",
            "/models",
            ModelList,
            extra_headers=extra_headers,
            extra_query=extra_query,
            timeout=timeout,
        )

    def retrieve(
        self,
        model: str,
        *,
        extra_headers: Optional[Mapping[str, Any]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
    ) -> Model:
        """One model by id (``"choreoai/echo"`` works: the id is URL-encoded).

        Raises:
            NotFoundError: the model is unknown (``code == "model_not_found"``).
        """
        if not model:
            raise ValueError("model must be a non-empty model id")
        return self._client._request(  # type: ignore[no-any-return]
            "GET",
            "/models/" + urllib.parse.quote(model, safe=""),
            Model,
            extra_headers=extra_headers,
            extra_query=extra_query,
            timeout=timeout,
        )


class Embeddings:
    """``client.embeddings``: ``POST /v1/embeddings``."""

    def __init__(self, client: ChoreoAI) -> None:
        self._client = client

    def create(
        self,
        model: str,
        input: Union[str, Sequence[str], Sequence[int], Sequence[Sequence[int]]],  # noqa: A002
        *,
        dimensions: Optional[int] = None,
        encoding_format: Optional[Literal["float", "base64"]] = None,
        user: Optional[str] = None,
        extra_headers: Optional[Mapping[str, Any]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
        timeout: Optional[float] = None,
        **params: Any,
    ) -> CreateEmbeddingResponse:
        """Embeds one text (or several, or token arrays).

        ``encoding_format="base64"`` returns each embedding as the server sends it: base64 of
        little-endian float32 values. Other keywords are passed through.
        """
        body = _params(
            {
                "model": model,
                "input": _listify(input),
                "dimensions": dimensions,
                "encoding_format": encoding_format,
                "user": user,
                **params,
            },
            extra_body,
        )
        return self._client._request(  # type: ignore[no-any-return]
            "POST",
            "/embeddings",
            CreateEmbeddingResponse,
            body=body,
            extra_headers=extra_headers,
            extra_query=extra_query,
            timeout=timeout,
        )

