/**
 * The exact o200k_base tokenizer, loaded on first use: its tables add about 60 MB to the process,
 * so a gateway that never serves the echo model (the one place that needs exact tokens, to cut a
 * reply at `max_tokens`) never loads them.
 */

/** Encodes text to o200k_base token ids, and back. */
export interface Tokenizer {
  encode(text: string): number[];
  decode(tokens: readonly number[]): string;
}

let loading: Promise<Tokenizer> | undefined;

/** The tokenizer; the first call imports gpt-tokenizer, later calls share it. */
export function loadTokenizer(): Promise<Tokenizer> {
  loading ??= import("gpt-tokenizer").then(({ decode, encode }) => {
    // Text that looks like a special token is counted as plain text, never rejected.
    const plain = { disallowedSpecial: new Set<string>() };
    return {
      encode: (text) => encode(text, plain),
      decode: (tokens) => decode(tokens as number[]),
    };
  });
  return loading;
}
