/**
 * A deterministic corpus for the token estimator: samples by category, made from the hand-written
 * texts of corpus_texts.ts (whole, cut at random places, joined) and from seeded generators
 * (JSON, numbers and tables, URLs, emoji, whitespace, random strings).
 */
import {
  CHAT,
  CHINESE,
  ENGLISH,
  FRENCH,
  GERMAN,
  JAPANESE,
  MARKUP,
  OTHER_SCRIPTS,
  PYTHON,
  SPANISH,
  TYPESCRIPT,
} from "./corpus_texts.ts";

/** One text of the corpus and its category. */
export interface Sample {
  readonly category: string;
  readonly text: string;
}

/** A seeded PRNG (mulberry32): the same seed gives the same corpus. */
export function createRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type Random = () => number;

function int(random: Random, min: number, max: number): number {
  return min + Math.floor(random() * (max - min + 1));
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** The texts whole, cut at random code points, and joined in pairs. */
function fromTexts(random: Random, texts: readonly string[], cuts: number): string[] {
  const out = [...texts];
  for (let i = 0; i < cuts; i++) {
    const chars = [...pick(random, texts)];
    const start = int(random, 0, Math.floor(chars.length / 2));
    const end = int(random, start + 1, chars.length);
    out.push(chars.slice(start, end).join(""));
  }
  for (let i = 0; i < texts.length; i++) {
    out.push(`${pick(random, texts)}\n\n${pick(random, texts)}`);
  }
  return out;
}

const WORDS = [
  "id",
  "name",
  "status",
  "created_at",
  "userId",
  "items",
  "price",
  "quantity",
  "description",
  "tags",
  "enabled",
  "metadata",
  "region",
  "email",
  "the quick brown fox",
  "pending",
  "Paris",
  "gpt-4o-mini",
  "São Paulo",
  "approved by admin",
];

function jsonValue(random: Random, depth: number): unknown {
  const kind = depth > 2 ? int(random, 0, 3) : int(random, 0, 5);
  switch (kind) {
    case 0:
      return pick(random, WORDS);
    case 1:
      return random() < 0.5 ? int(random, 0, 100_000) : Math.round(random() * 1e6) / 100;
    case 2:
      return random() < 0.5;
    case 3:
      return null;
    case 4:
      return Array.from({ length: int(random, 0, 4) }, () => jsonValue(random, depth + 1));
    default: {
      const object: Record<string, unknown> = {};
      for (let i = int(random, 1, 6); i > 0; i--) {
        object[pick(random, WORDS).replaceAll(" ", "_")] = jsonValue(random, depth + 1);
      }
      return object;
    }
  }
}

function jsonSamples(random: Random): string[] {
  const out: string[] = [];
  for (let i = 0; i < 16; i++) {
    const value = jsonValue(random, 0);
    out.push(JSON.stringify(value, null, i % 2 === 0 ? 2 : undefined));
  }
  out.push(JSON.stringify({
    type: "function",
    function: {
      name: "get_weather",
      description: "Get the current weather in a given city",
      parameters: {
        type: "object",
        properties: {
          city: { type: "string", description: "The city, e.g. San Francisco" },
          unit: { type: "string", enum: ["celsius", "fahrenheit"] },
        },
        required: ["city"],
      },
    },
  }));
  out.push(JSON.stringify([
    "Be brief",
    [{ role: "user", content: [{ type: "text", text: "What is in this image?" }] }],
    [{ name: "search", input_schema: { type: "object", properties: { q: { type: "string" } } } }],
  ]));
  return out;
}

function numberSamples(random: Random): string[] {
  const out: string[] = [];
  for (let i = 0; i < 8; i++) {
    const rows = [
      "| date       | region | requests | p50 ms | p99 ms | errors |",
      "|------------|--------|---------:|-------:|-------:|-------:|",
    ];
    for (let r = int(random, 2, 10); r > 0; r--) {
      const day = String(int(random, 1, 28)).padStart(2, "0");
      rows.push(
        `| 2026-0${int(random, 1, 9)}-${day} | ${pick(random, ["eu", "us", "ap"])}-${
          int(random, 1, 3)
        } | ${int(random, 1000, 9_999_999)} | ${(random() * 10).toFixed(2)} | ${
          (random() * 400).toFixed(1)
        } | ${int(random, 0, 99)} |`,
      );
    }
    out.push(rows.join("\n"));
  }
  for (let i = 0; i < 8; i++) {
    const lines = ["id,amount,rate,balance"];
    for (let r = int(random, 2, 12); r > 0; r--) {
      lines.push(
        `${int(random, 1, 99999)},${(random() * 10000).toFixed(2)},${random().toFixed(6)},${
          int(random, -1e9, 1e9)
        }`,
      );
    }
    out.push(lines.join("\n"));
  }
  out.push("3.14159265358979323846264338327950288419716939937510582097494459230781640628");
  out.push("Call +1 (415) 555-0132 or +49 30 1234567 before 17:30 on 12/24/2025.");
  out.push(Array.from({ length: 60 }, () => int(random, 0, 255)).join(" "));
  out.push(Array.from({ length: 40 }, () => (random() * 2 - 1).toExponential(4)).join(", "));
  return out;
}

const DOMAINS = ["example.com", "api.openai.com", "github.com", "docs.deno.com", "my-shop.co.uk"];
const SEGMENTS = [
  "v1",
  "users",
  "orders",
  "search",
  "blob",
  "main",
  "src",
  "chat",
  "2026",
  "items",
];

function urlSamples(random: Random): string[] {
  const url = () => {
    const path = Array.from(
      { length: int(random, 1, 5) },
      () => random() < 0.3 ? randomString(random, HEX, int(random, 6, 12)) : pick(random, SEGMENTS),
    );
    const query = random() < 0.6
      ? `?q=${encodeURIComponent(pick(random, WORDS))}&page=${int(random, 1, 50)}&token=${
        randomString(random, B64URL, int(random, 8, 24))
      }`
      : "";
    return `https://${pick(random, DOMAINS)}/${path.join("/")}${query}`;
  };
  const out: string[] = [];
  for (let i = 0; i < 12; i++) out.push(url());
  for (let i = 0; i < 6; i++) {
    out.push(Array.from({ length: int(random, 2, 8) }, url).join("\n"));
  }
  out.push(`See ${url()} and [the docs](${url()}) for details.`);
  return out;
}

const EMOJI = [
  "😀",
  "🎉",
  "🚀",
  "❤️",
  "👍🏽",
  "👨‍👩‍👧‍👦",
  "🇫🇷",
  "🔥",
  "✅",
  "🤔",
  "🙏",
  "🥲",
  "🧑‍💻",
  "⭐",
  "☕",
];

function emojiSamples(random: Random): string[] {
  const out: string[] = [];
  for (let i = 0; i < 10; i++) {
    out.push(Array.from({ length: int(random, 1, 12) }, () => pick(random, EMOJI)).join(""));
  }
  for (let i = 0; i < 10; i++) {
    const words = pick(random, CHAT).split(" ");
    out.push(words.map((w) => random() < 0.4 ? `${w} ${pick(random, EMOJI)}` : w).join(" "));
  }
  return out;
}

function whitespaceSamples(random: Random): string[] {
  const out: string[] = [];
  for (let i = 0; i < 6; i++) {
    const lines = [];
    for (let l = int(random, 3, 15); l > 0; l--) {
      const indent = random() < 0.5
        ? " ".repeat(int(random, 0, 24))
        : "\t".repeat(int(random, 0, 6));
      lines.push(`${indent}${pick(random, ["x = 1", "}", "return value;", "", "end", "foo()"])}`);
      if (random() < 0.3) lines.push("\n".repeat(int(random, 1, 4)));
    }
    out.push(lines.join("\n"));
  }
  for (let i = 0; i < 6; i++) {
    out.push(
      Array.from(
        { length: int(random, 2, 6) },
        () => `${pick(random, WORDS)}${" ".repeat(int(random, 1, 40))}${int(random, 0, 999)}   `,
      )
        .join("\n"),
    );
  }
  out.push(" ".repeat(200));
  out.push("\n".repeat(50));
  out.push("\t\t\t\n\n   \r\n  \t ");
  out.push(`a${" ".repeat(100)}b${"\n".repeat(20)}c`);
  return out;
}

const B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const HEX = "0123456789abcdef";
const LOWER = "abcdefghijklmnopqrstuvwxyz";

function randomString(random: Random, alphabet: string, length: number): string {
  let out = "";
  for (let i = 0; i < length; i++) out += alphabet[Math.floor(random() * alphabet.length)];
  return out;
}

function randomSamples(random: Random): string[] {
  const out: string[] = [];
  for (const length of [8, 24, 64, 200, 1000]) out.push(randomString(random, B64, length));
  for (const length of [16, 40, 64, 256]) out.push(randomString(random, HEX, length));
  for (const length of [6, 12, 30, 100]) out.push(randomString(random, LOWER, length));
  out.push(randomString(random, LOWER.toUpperCase(), 40));
  for (let i = 0; i < 3; i++) {
    const h = randomString(random, HEX, 32);
    out.push(
      `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`,
    );
  }
  out.push(`sk-proj-${randomString(random, B64URL, 48)}`);
  out.push(
    `${randomString(random, B64URL, 36)}.${randomString(random, B64URL, 120)}.${
      randomString(random, B64URL, 43)
    }`,
  );
  out.push(`data:image/png;base64,${randomString(random, B64, 400)}==`);
  return out;
}

/** The whole corpus, the same on every call. */
export function corpus(seed = 20_261_125): Sample[] {
  const random = createRandom(seed);
  const categories: [string, string[]][] = [
    ["english", fromTexts(random, ENGLISH, 12)],
    ["code_ts", fromTexts(random, TYPESCRIPT, 8)],
    ["code_py", fromTexts(random, PYTHON, 8)],
    ["json", jsonSamples(random)],
    ["markup", fromTexts(random, MARKUP, 6)],
    ["chat", [...CHAT]],
    ["numbers", numberSamples(random)],
    ["urls", urlSamples(random)],
    ["german", fromTexts(random, GERMAN, 6)],
    ["french", fromTexts(random, FRENCH, 6)],
    ["spanish", fromTexts(random, SPANISH, 6)],
    ["chinese", fromTexts(random, CHINESE, 8)],
    ["japanese", fromTexts(random, JAPANESE, 6)],
    ["other_scripts", fromTexts(random, OTHER_SCRIPTS, 8)],
    ["emoji", emojiSamples(random)],
    ["whitespace", whitespaceSamples(random)],
    ["random", randomSamples(random)],
  ];
  return categories.flatMap(([category, texts]) =>
    texts.filter((text) => text !== "").map((text) => ({ category, text }))
  );
}
