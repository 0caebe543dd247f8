"""ChoreoAI: a Python client for the ChoreoAI gateway (standard library only).

::

    from choreoai import ChoreoAI

    client = ChoreoAI()  # CHOREOAI_API_KEY, and CHOREOAI_BASE_URL or http://localhost:8000/v1
    completion = client.chat.completions.create(
        model="choreoai/echo",
        messages=[{"role": "user", "content": "Hello!"}],
    )
    print(completion.choices[0].message.content)

See the package README for streaming, models, embeddings, errors and retries.
"""

from ._client import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT, ChoreoAI
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ChoreoAIError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
)
from ._streaming import Stream
from ._types import (
    ChatCompletion,
    ChatCompletionChunk,
    ChoreoObject,
    CreateEmbeddingResponse,
    Embedding,
    Model,
    ModelList,
)
from ._version import __version__

__all__ = [
    "__version__",
    "ChoreoAI",
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
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
    "Stream",
    "ChoreoObject",
    "ChatCompletion",
    "ChatCompletionChunk",
    "Model",
    "ModelList",
    "Embedding",
    "CreateEmbeddingResponse",
]
