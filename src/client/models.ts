/**
 * `client.models`: `GET /v1/models` and `GET /v1/models/{id}`.
 *
 * @module
 */
import type { Transport } from "./_http.ts";
import type { RequestOptions } from "./options.ts";
import type { Model, ModelList } from "./types.ts";

/** The promise `models.list()` returns; `for await` also walks the models it resolves to. */
export type ModelListPromise = Promise<ModelList> & AsyncIterable<Model>;

/** `client.models`. */
export class Models {
  readonly #transport: Transport;

  constructor(transport: Transport) {
    this.#transport = transport;
  }

  /**
   * The models this key may use. The list is iterable (`for (const model of list)`), like the
   * Python client's; the promise itself works with `for await`.
   *
   * @param options Per-request options.
   * @returns `{ object: "list", data }`.
   *
   * @example List the models
   * ```ts
   * import { ChoreoAI } from "./mod.ts";
   *
   * const client = new ChoreoAI({ apiKey: "your-api-key" });
   * for (const model of await client.models.list()) console.log(model.id, model.owned_by);
   * for await (const model of client.models.list()) console.log(model.id);
   * ```
   */
  list(options?: RequestOptions): ModelListPromise {
    const promise = this.#transport
      .json<ModelList>({ method: "GET", path: "/models", options })
      .then((list) => {
        Object.defineProperty(list, Symbol.iterator, {
          value: function* (this: ModelList) {
            yield* Array.isArray(this.data) ? this.data : [];
          },
          enumerable: false,
          configurable: true,
        });
        return list;
      });
    return Object.assign(promise, {
      async *[Symbol.asyncIterator](): AsyncGenerator<Model, void, undefined> {
        yield* await promise;
      },
    });
  }

  /**
   * One model by id; ids with `/` work (the id is URL-encoded).
   *
   * @param model The model id, e.g. `"choreoai/echo"`.
   * @param options Per-request options.
   * @returns The model.
   * @throws {NotFoundError} when the model is unknown (`code` is `"model_not_found"`).
   *
   * @example Retrieve a model
   * ```ts
   * import { ChoreoAI } from "./mod.ts";
   *
   * const client = new ChoreoAI({ apiKey: "your-api-key" });
   * const echo = await client.models.retrieve("choreoai/echo");
   * console.log(echo.owned_by);
   * ```
   */
  retrieve(model: string, options?: RequestOptions): Promise<Model> {
    if (model === "") {
      return Promise.reject(new TypeError("Cannot retrieve a model: the id is empty"));
    }
    return this.#transport.json<Model>({
      method: "GET",
      path: `/models/${encodeURIComponent(model)}`,
      options,
    });
  }
}
