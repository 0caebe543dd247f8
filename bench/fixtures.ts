/**
 * The payloads of the benchmark: the client's request bodies and the fake upstream's answers.
 *
 * The fake upstream answers with what OpenAI sends for a short chat: one `chat.completion`
 * object, or a stream of `chat.completion.chunk` events (a role chunk, one chunk per word, a
 * finish chunk, a usage chunk) and `data: [DONE]`. The user message has about as many words as
 * the upstream's reply, so the gateway's built-in `choreoai/echo` model streams about as many
 * events as the fake upstream does.
 */

/** The key clients send; the gateway's development mode accepts any well-formed Bearer key. */
export const CLIENT_KEY = "sk-bench-client-key";

/** The model routed to the (fake) OpenAI upstream. */
export const UPSTREAM_MODEL = "gpt-4o-mini";

/** The gateway's built-in model, answered without any upstream. */
export const ECHO_MODEL = "choreoai/echo";

/**
 * A model routed to the same fake upstream (a `gpt-*` name, so the gateway sends it to
 * OpenAI), whose stream is paced: {@linkcode PACED_CONTENT_EVENTS} content events, every event
 * {@linkcode PACED_DELAY_MS} ms after the previous one. The concurrent-stream cells use it.
 */
export const PACED_MODEL = "gpt-4o-mini-paced";

/** Content events (one word each) of the paced stream. */
export const PACED_CONTENT_EVENTS = 20;

/** Delay between the paced stream's events, ms. */
export const PACED_DELAY_MS = 5;

const SYSTEM_PROMPT = "You are a concise assistant. Answer in one or two sentences.";
const USER_PROMPT = "In one or two sentences, explain why a reverse proxy adds latency " +
  "to every request it forwards to an upstream server.";

/** The assistant's reply, split into the words the stream sends one per event. */
const REPLY_WORDS: readonly string[] = (
  "A reverse proxy adds latency because every request must be received, parsed and " +
  "forwarded again, and every response copied back to the client."
).split(/(?<= )/);

/** The paced stream's reply: {@linkcode PACED_CONTENT_EVENTS} words. */
const PACED_WORDS: readonly string[] = (
  "Streams that trickle in slowly must still reach every client whole, in order, and " +
  "without stalls, however many are open."
).split(/(?<= )/);
if (PACED_WORDS.length !== PACED_CONTENT_EVENTS) throw new Error("PACED_WORDS needs 20 words");

/** A realistic chat request body (compact JSON, as SDKs send it). */
export function requestBody(model: string, stream: boolean): string {
  return JSON.stringify({
    model,
    messages: [
      { role: "system", content: SYSTEM_PROMPT },
      { role: "user", content: USER_PROMPT },
    ],
    temperature: 0.2,
    max_tokens: 256,
    ...(stream ? { stream: true, stream_options: { include_usage: true } } : {}),
  });
}

const USAGE = {
  prompt_tokens: 41,
  completion_tokens: REPLY_WORDS.length,
  total_tokens: 41 + REPLY_WORDS.length,
};
const BASE = {
  id: "chatcmpl-BENCH0123456789abcdefghijklmnop",
  created: 1_732_000_000,
  model: "gpt-4o-mini-2024-07-18",
  system_fingerprint: "fp_0ba0d124f1",
};

/** The fake upstream's non-stream answer. */
export function completionJson(): string {
  return JSON.stringify({
    ...BASE,
    object: "chat.completion",
    choices: [{
      index: 0,
      message: { role: "assistant", content: REPLY_WORDS.join(""), refusal: null },
      logprobs: null,
      finish_reason: "stop",
    }],
    usage: USAGE,
    service_tier: "default",
  });
}

/**
 * The fake upstream's stream, one `data: …\n\n` event per element, `[DONE]` last: a role
 * chunk, one content chunk per word, a finish chunk, a usage chunk. `paced`: the
 * {@linkcode PACED_MODEL}'s words.
 */
export function streamEvents(paced = false): string[] {
  const words = paced ? PACED_WORDS : REPLY_WORDS;
  const usage = {
    prompt_tokens: USAGE.prompt_tokens,
    completion_tokens: words.length,
    total_tokens: USAGE.prompt_tokens + words.length,
  };
  const chunk = (delta: object, finish: string | null, usage: object | null = null) => ({
    ...BASE,
    object: "chat.completion.chunk",
    service_tier: "default",
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    usage,
  });
  const chunks: object[] = [chunk({ role: "assistant", content: "", refusal: null }, null)];
  for (const word of words) chunks.push(chunk({ content: word }, null));
  chunks.push(chunk({}, "stop"));
  chunks.push({
    ...BASE,
    object: "chat.completion.chunk",
    service_tier: "default",
    choices: [],
    usage,
  });
  return [...chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`), "data: [DONE]\n\n"];
}
