/**
 * `client.chat.completions`: `POST /v1/chat/completions`.
 *
 * @module
 */
import type { Transport } from "./_http.ts";
import type { RequestOptions } from "./options.ts";
import type { Stream } from "./stream.ts";
import type {
  ChatCompletion,
  ChatCompletionChunk,
  ChatCompletionCreateParamsBase,
  ChatCompletionCreateParamsNonStreaming,
  ChatCompletionCreateParamsStreaming,
} from "./types.ts";

/** `client.chat.completions`. */
export class Completions {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * Creates a chat completion. Every OpenAI parameter is sent as given, the typed ones and any
   * other. With `stream: true` the promise resolves, once the answer has begun, to a
   * {@linkcode Stream} of chunks; otherwise to the whole `chat.completion`.
   *
   * @param body The request: `model`, `messages` and any other OpenAI parameter.
   * @param options Per-request `signal`, `headers`, `timeout`, `maxRetries`, `query`.
   * @returns The completion, or a stream of chunks when `stream` is true.
   * @throws {APIError} or a subclass: see the package documentation.
   *
   * @example A completion
   * ```ts
   * import { ChoreoAI } from "./mod.ts";
   *
   * const client = new ChoreoAI({ apiKey: "your-api-key" });
   * const completion = await client.chat.completions.create({
   *   model: "choreoai/echo",
   *   messages: [{ role: "user", content: "Hello!" }],
   * });
   * console.log(completion.choices[0]?.message.content); // Hello!
   * ```
   */
  create(
    body: ChatCompletionCreateParamsNonStreaming,
    options?: RequestOptions,
  ): Promise<ChatCompletion>;
  create(
    body: ChatCompletionCreateParamsStreaming,
    options?: RequestOptions,
  ): Promise<Stream<ChatCompletionChunk>>;
  create(
    body: ChatCompletionCreateParamsBase,
    options?: RequestOptions,
  ): Promise<ChatCompletion | Stream<ChatCompletionChunk>>;
  create(
    body: ChatCompletionCreateParamsBase,
    options?: RequestOptions,
  ): Promise<ChatCompletion | Stream<ChatCompletionChunk>> {
    const spec = { method: "POST", path: "/chat/completions", body, options } as const;
    return body.stream === true
      ? this.#transport.stream<ChatCompletionChunk>(spec)
      : this.#transport.json<ChatCompletion>(spec);
  }
}

/** `client.chat`: holds {@linkcode Completions}. */
export class Chat {
  /** `POST /v1/chat/completions`. */
  readonly completions: Completions;

  constructor(transport: Transport) {
    this.completions = new Completions(transport);
  }
}
