"""Response objects: JSON objects with attribute access.

Every JSON object the gateway returns becomes a :class:`ChoreoObject`, a ``dict`` subclass whose
keys can also be read as attributes (``completion.choices[0].message.content``). Being a real
``dict``, it prints like the JSON it came from, compares equal to plain dicts, and
``json.dumps`` accepts it as is. :meth:`ChoreoObject.to_dict` gives plain dicts and lists back.

A key that is also the name of a ``dict`` method (``items``, ``keys``, ``values``, ``get``, ``copy``,
``update``, ``pop``, ``clear``, ``setdefault``, ``popitem``, ``fromkeys``) must be read with
``obj["items"]``; no OpenAI response field has such a name.
"""

from __future__ import annotations

import json
from typing import Any, Dict, Iterator, List, Mapping, Optional, Type, TypeVar

__all__ = [
    "ChoreoObject",
    "ChatCompletion",
    "ChatCompletionChunk",
    "Model",
    "ModelList",
    "Embedding",
    "CreateEmbeddingResponse",
    "convert",
]

T = TypeVar("T", bound="ChoreoObject")


def convert(value: Any) -> Any:
    """Turns decoded JSON into :class:`ChoreoObject` trees (dicts wrapped, lists copied)."""
    if isinstance(value, ChoreoObject):
        return value
    if isinstance(value, dict):
        return ChoreoObject(value)
    if isinstance(value, list):
        return [convert(item) for item in value]
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


class ChoreoObject(Dict[str, Any]):
    """A JSON object whose keys are also attributes.

    Reading a missing key as an attribute gives ``None``, as OpenAI's client does for the optional
    fields a server leaves out (``chunk.choices[0].delta.content`` on the last chunk of a
    stream); ``"name" in obj`` tells whether the key is there. Names starting with ``_`` raise
    :class:`AttributeError`, so Python's own protocols (copy, pickle) behave. Nested objects are
    :class:`ChoreoObject` too, and lists of objects are lists of them.
    """

    def __init__(self, data: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
        super().__init__()
        for key, value in dict(data or {}, **kwargs).items():
            dict.__setitem__(self, key, convert(value))

    @classmethod
    def construct(cls: Type[T], data: Mapping[str, Any]) -> T:
        """Builds an instance of this class from decoded JSON."""
        return cls(data)

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            if name.startswith("_"):
                raise AttributeError(
                    f"{type(self).__name__!s} object has no attribute {name!r}"
                ) from None
            return None

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def __delattr__(self, name: str) -> None:
        try:
            del self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setitem__(self, key: str, value: Any) -> None:
        dict.__setitem__(self, key, convert(value))

    def __dir__(self) -> List[str]:
        return sorted(set(super().__dir__()) | {key for key in self if key.isidentifier()})

    def __repr__(self) -> str:
        return f"{type(self).__name__}({dict.__repr__(self)})"

    def __reduce__(self) -> Any:
        return (type(self), (self.to_dict(),))

    def to_dict(self) -> Dict[str, Any]:
        """A deep copy made of plain ``dict``\\ s and ``list``\\ s."""
        result: Dict[str, Any] = _plain(self)
        return result

    def to_json(self, indent: Optional[int] = 2) -> str:
        """The object as JSON text."""
        return json.dumps(self, indent=indent, ensure_ascii=False)


class ChatCompletion(ChoreoObject):
    """A ``chat.completion`` object (``POST /v1/chat/completions`` without streaming)."""

    id: str
    object: str
    created: int
    model: str
    choices: List[Any]
    usage: Any
    system_fingerprint: Optional[str]
    _request_id: Optional[str] = None


class ChatCompletionChunk(ChoreoObject):
    """One ``chat.completion.chunk`` of a stream; the final usage chunk has ``choices == []``."""

    id: str
    object: str
    created: int
    model: str
    choices: List[Any]
    usage: Any


class Model(ChoreoObject):
    """One model the key may use (``id``, ``object == "model"``, ``created``, ``owned_by``)."""

    id: str
    object: str
    created: int
    owned_by: str
    _request_id: Optional[str] = None


class ModelList(ChoreoObject):
    """The answer of ``GET /v1/models``: iterate over it, or read ``.data``."""

    object: str
    data: List[Model]
    _request_id: Optional[str] = None

    def __init__(self, data: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        models = self.get("data")
        if isinstance(models, list):
            dict.__setitem__(
                self, "data", [Model(m) if isinstance(m, dict) else m for m in models]
            )

    def __iter__(self) -> Iterator[Model]:  # type: ignore[override]
        """Iterates over the models (not over the keys, unlike a plain dict)."""
        return iter(self.get("data") or [])

    def __len__(self) -> int:
        return len(self.get("data") or [])

    def __bool__(self) -> bool:
        return True

    def keys(self) -> Any:  # dict.keys() still works, since iteration now yields models
        return dict.keys(self)

    def to_dict(self) -> Dict[str, Any]:
        return {key: _plain(value) for key, value in dict.items(self)}


class Embedding(ChoreoObject):
    """One embedding: ``index`` and ``embedding`` (floats, or base64 text when asked for)."""

    object: str
    index: int
    embedding: Any


class CreateEmbeddingResponse(ChoreoObject):
    """The answer of ``POST /v1/embeddings``."""

    object: str
    data: List[Embedding]
    model: str
    usage: Any
    _request_id: Optional[str] = None

    def __init__(self, data: Optional[Mapping[str, Any]] = None, **kwargs: Any) -> None:
        super().__init__(data, **kwargs)
        items = self.get("data")
        if isinstance(items, list):
            dict.__setitem__(
                self, "data", [Embedding(e) if isinstance(e, dict) else e for e in items]
            )
