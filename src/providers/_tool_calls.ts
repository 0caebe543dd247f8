/**
 * Pairing `tool` messages with the assistant tool calls they answer, shared by the providers
 * that check it before sending (Anthropic, Gemini): a result that answers no earlier call is the
 * client's mistake, refused with our 400 rather than the provider's own wording.
 */
import { errors } from "../errors.ts";
import type { ChatMessage } from "../openai/schema.ts";

/** The tool calls of a conversation's assistant messages so far: id → function name. */
export class ToolCalls {
  readonly #names = new Map<string, string>();

  /** Records one assistant tool call. */
  add(id: string, name: string): void {
    this.#names.set(id, name);
  }

  /**
   * The function name of the earlier call a `tool` message answers.
   *
   * @throws {GatewayError} 400 `invalid_request` with param `<param>.tool_call_id`, naming the
   *   id, when no earlier assistant tool call has it.
   */
  answeredBy(message: ChatMessage, param: string): string {
    const id = message.tool_call_id ?? "";
    const name = this.#names.get(id);
    if (name !== undefined) return name;
    throw errors.invalidRequest(
      `Invalid value for '${param}.tool_call_id': no earlier assistant tool call has the id ` +
        `"${id.slice(0, 100)}"; a tool message must answer a tool call of an earlier ` +
        "assistant message",
      `${param}.tool_call_id`,
    );
  }
}
