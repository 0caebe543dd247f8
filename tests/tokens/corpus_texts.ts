/**
 * Hand-written texts of the token estimator's corpus (tests/tokens/corpus.ts cuts and combines
 * them into samples). Prose in several languages, code, chat turns.
 */

/** English prose: documentation, news-like, narrative, technical. */
export const ENGLISH: readonly string[] = [
  "A reverse proxy sits between clients and one or more upstream servers. It accepts a request, " +
  "decides where it should go, forwards it, and copies the answer back. Because every byte passes " +
  "through it twice, the proxy adds some latency to each request; a well-built one keeps that cost " +
  "to a fraction of a millisecond, so that it disappears next to the time the upstream needs.",
  "The committee met on Thursday to review the budget for the coming year. Several members raised " +
  "concerns about the rising cost of maintenance, particularly for the older buildings on the east " +
  "side of the campus. After a long discussion, they agreed to postpone the vote until an " +
  "independent assessment could be completed, which is expected by the end of next month.",
  "She opened the door slowly, half expecting the room to be empty. Instead, an old man sat by the " +
  "window, reading a newspaper that was at least a week out of date. He looked up, smiled as if he " +
  "had been waiting for her all afternoon, and asked whether she had remembered to bring the keys.",
  "Photosynthesis converts light energy into chemical energy. In the chloroplasts of plant cells, " +
  "chlorophyll absorbs photons, and the energy drives the synthesis of glucose from carbon dioxide " +
  "and water, releasing oxygen as a by-product. The overall efficiency is surprisingly low, rarely " +
  "exceeding a few percent under field conditions.",
  "To configure rate limits, give each key an rpm and a tpm value. Requests that would exceed the " +
  "limit are refused with status 429 and a Retry-After header. Token reservations are estimated " +
  "before the call and settled afterwards with the usage the provider reports, so unused tokens " +
  "return to the budget and overruns are charged.",
  "Interoperability between heterogeneous systems remains a persistent challenge. " +
  "Standardization efforts, notwithstanding their undeniable achievements, frequently " +
  "underestimate the organizational complexity of implementation, and the resulting " +
  "specifications accumulate optional features that manufacturers interpret inconsistently.",
  "Q: What's the difference between a process and a thread?\nA: A process has its own address " +
  "space; threads share the address space of the process they belong to. That's why threads are " +
  "cheaper to create, but also why a bug in one thread can corrupt the memory of all the others.",
  "## Installation\n\n1. Install Deno 2.9 or later.\n2. Clone the repository.\n3. Copy " +
  "`.env.example` to `.env` and fill in your provider keys.\n4. Run `deno task start`.\n\n" +
  "> **Note:** the gateway listens on 127.0.0.1:8000 unless `CHOREOAI_PORT` says otherwise.\n\n" +
  "- **Streaming**: supported for every provider.\n- **Embeddings**: OpenAI, Azure and Gemini.",
];

/** TypeScript code. */
export const TYPESCRIPT: readonly string[] = [
  `import { parseArgs } from "node:util";

export interface Options {
  readonly port: number;
  readonly host: string;
  readonly verbose?: boolean;
}

/** Parses the command line into options, with defaults. */
export function parseOptions(args: string[]): Options {
  const { values } = parseArgs({
    args,
    options: {
      port: { type: "string", default: "8000" },
      host: { type: "string", default: "127.0.0.1" },
      verbose: { type: "boolean", short: "v" },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(\`Cannot parse port "\${values.port}": not a port number\`);
  }
  return { port, host: values.host ?? "127.0.0.1", verbose: values.verbose === true };
}
`,
  `export class LruCache<K, V> {
  readonly #max: number;
  readonly #map = new Map<K, V>();

  constructor(max: number) {
    this.#max = max;
  }

  get(key: K): V | undefined {
    const value = this.#map.get(key);
    if (value !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, value);
    }
    return value;
  }

  set(key: K, value: V): void {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.#max) {
      const oldest = this.#map.keys().next().value as K;
      this.#map.delete(oldest);
    }
  }
}
`,
  `Deno.test("handleChat() refuses a request over the token limit", async (t) => {
  const limiter = createMemoryLimiter({ now: () => 0 });
  for (const [name, maxTokens, status] of [["fits", 10, 200], ["too big", 10_000, 429]] as const) {
    await t.step(name, async () => {
      const response = await handler(new Request("http://localhost/v1/chat/completions", {
        method: "POST",
        headers: { authorization: \`Bearer \${KEY}\`, "content-type": "application/json" },
        body: JSON.stringify({ model: "choreoai/echo", max_tokens: maxTokens, messages }),
      }));
      assert.equal(response.status, status);
      await response.body?.cancel();
    });
  }
});
`,
  `type Result<T> = { ok: true; value: T } | { ok: false; error: GatewayError };

const retryable = new Set([408, 409, 429, 500, 502, 503, 504]);

async function withRetries<T>(attempt: () => Promise<Result<T>>, max = 3): Promise<Result<T>> {
  let last: Result<T> | undefined;
  for (let i = 0; i < max; i++) {
    last = await attempt();
    if (last.ok || !retryable.has(last.error.status)) return last;
    await new Promise((resolve) => setTimeout(resolve, 2 ** i * 100));
  }
  return last!;
}
`,
];

/** Python code. */
export const PYTHON: readonly string[] = [
  `import json
import os
from dataclasses import dataclass, field
from typing import Iterator


@dataclass
class Message:
    role: str
    content: str
    metadata: dict[str, str] = field(default_factory=dict)


def read_messages(path: str) -> Iterator[Message]:
    """Yields the messages of a JSON-lines file, skipping blank lines."""
    with open(path, encoding="utf-8") as handle:
        for line_number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as error:
                raise ValueError(f"{path}:{line_number}: {error}") from error
            yield Message(role=data["role"], content=data["content"])
`,
  `from openai import OpenAI

client = OpenAI(base_url="http://127.0.0.1:8000/v1", api_key=os.environ["CHOREOAI_KEY"])

def summarize(text: str, max_tokens: int = 200) -> str:
    response = client.chat.completions.create(
        model="gpt-4o-mini",
        messages=[
            {"role": "system", "content": "Summarize the user's text in three bullet points."},
            {"role": "user", "content": text},
        ],
        max_tokens=max_tokens,
        temperature=0.2,
    )
    return response.choices[0].message.content or ""


if __name__ == "__main__":
    import sys
    print(summarize(sys.stdin.read()))
`,
  `class Matrix:
    def __init__(self, rows):
        self.rows = [list(map(float, row)) for row in rows]
        self.n = len(self.rows)
        self.m = len(self.rows[0]) if self.rows else 0

    def __matmul__(self, other):
        if self.m != other.n:
            raise ValueError("shape mismatch: %dx%d @ %dx%d" % (self.n, self.m, other.n, other.m))
        return Matrix([[sum(a * b for a, b in zip(r, c)) for c in zip(*other.rows)] for r in self.rows])

    def __repr__(self):
        return "Matrix(%r)" % (self.rows,)
`,
];

/** Short chat turns, as users and assistants write them. */
export const CHAT: readonly string[] = [
  "hi",
  "Hello!",
  "thanks :)",
  "Can you help me write an email to my landlord about the broken heater?",
  "What's the capital of Australia?",
  "Canberra.",
  "lol no that's wrong, try again",
  "Sure! Here's a quick summary:\n\n- It's fast\n- It's cheap\n- It works offline",
  "Translate 'good morning' into Italian please",
  "Buongiorno!",
  "ok",
  "Why does my build fail with `error TS2345: Argument of type 'string' is not assignable`?",
  "You are a helpful assistant. Answer concisely.",
  "Tell me a joke about databases.",
  'A SQL query walks into a bar, walks up to two tables and asks: "Can I join you?"',
  "idk, maybe tomorrow? gotta run",
  "Please rewrite this paragraph so it sounds more formal, but keep it under 100 words.",
  "Yes.",
];

/** German prose. */
export const GERMAN: readonly string[] = [
  "Die Stadtverwaltung hat am Montag beschlossen, die Öffnungszeiten der öffentlichen " +
  "Bibliotheken zu verlängern. Künftig sollen die Filialen auch samstags bis 18 Uhr geöffnet " +
  "sein. Die zusätzlichen Kosten von rund 250.000 Euro pro Jahr werden aus dem Kulturhaushalt " +
  "finanziert, wie ein Sprecher mitteilte.",
  "Bitte beachten Sie, dass die Rücksendung innerhalb von vierzehn Tagen nach Erhalt der Ware " +
  "erfolgen muss. Verwenden Sie dafür das beiliegende Formular und legen Sie eine Kopie der " +
  "Rechnung bei. Die Erstattung des Kaufpreises erfolgt nach Prüfung der zurückgesandten Artikel.",
  "Der Geschwindigkeitsbegrenzungsüberwachungsbeauftragte überprüfte die " +
  "Verkehrsinfrastrukturfinanzierungsgesellschaft, während draußen die Straßenbahn " +
  "quietschend um die Ecke fuhr und ein Hund übermütig über die Grünfläche sprang.",
];

/** French prose. */
export const FRENCH: readonly string[] = [
  "Le gouvernement a présenté mercredi un projet de loi visant à simplifier les démarches " +
  "administratives des petites entreprises. Selon le ministre, les formalités de création " +
  "d'une société pourront désormais être effectuées entièrement en ligne, en moins d'une " +
  "semaine, contre près d'un mois aujourd'hui.",
  "Il était une fois, dans un village au bord de la mer, une vieille femme qui vendait des " +
  "coquillages. Chaque matin, elle s'installait près du port, et les enfants venaient l'écouter " +
  "raconter des histoires de marins, de tempêtes et de trésors engloutis qu'on n'a jamais " +
  "retrouvés.",
  "Pour installer l'application, téléchargez l'archive, décompressez-la dans le répertoire de " +
  "votre choix, puis exécutez le script « install.sh ». N'oubliez pas de vérifier que votre " +
  "système dispose d'au moins 2 Go d'espace libre.",
];

/** Spanish prose. */
export const SPANISH: readonly string[] = [
  "El ayuntamiento anunció ayer que las obras de la nueva línea de metro comenzarán en " +
  "septiembre. Según el proyecto, la línea tendrá doce estaciones y conectará el aeropuerto " +
  "con el centro de la ciudad en menos de veinte minutos. ¿Cuánto costará? Todavía no se sabe.",
  "Mañana por la mañana iremos al mercado a comprar frutas y verduras. Después, si no llueve, " +
  "daremos un paseo por el parque y almorzaremos en el pequeño restaurante junto al río, donde " +
  "preparan una paella extraordinaria.",
  "La programación orientada a objetos organiza el código en clases que combinan datos y " +
  "comportamiento. La herencia permite reutilizar la implementación, aunque muchos " +
  "desarrolladores prefieren hoy la composición, que resulta más flexible y fácil de probar.",
];

/** Chinese prose (simplified). */
export const CHINESE: readonly string[] = [
  "人工智能正在改变我们的生活方式。从智能手机上的语音助手到自动驾驶汽车，这项技术已经渗透到各个领域。" +
  "然而，专家们也提醒，我们需要认真思考它带来的伦理问题和社会影响。",
  "今天天气很好，我和朋友一起去公园散步。公园里有很多人，有的在跑步，有的在打太极拳，还有孩子们在草地上放风筝。",
  "请注意：本系统将于本周六凌晨两点至四点进行维护，期间所有服务暂停使用。给您带来的不便，敬请谅解。",
  "在使用该接口之前，您需要先申请一个密钥，并在请求头中携带该密钥。每个密钥每分钟最多可以发送六十次请求。",
];

/** Japanese prose. */
export const JAPANESE: readonly string[] = [
  "東京は日本の首都であり、世界でも有数の大都市です。伝統的な寺院や神社と、最新の高層ビルが共存しているのが特徴で、" +
  "毎年多くの観光客が訪れます。",
  "昨日、友達と一緒に新しいラーメン屋さんに行きました。スープがとても濃厚で、麺ももちもちしていて、本当においしかったです。" +
  "また行きたいと思います。",
  "このアプリケーションを使用するには、まずアカウントを作成してください。ログイン後、設定画面からAPIキーを発行できます。",
];

/** Other scripts: Russian, Korean, Arabic, Hindi, Greek, Hebrew, Thai. */
export const OTHER_SCRIPTS: readonly string[] = [
  "Вчера вечером в городском парке прошёл концерт симфонического оркестра. Несмотря на " +
  "прохладную погоду, послушать музыку пришли более двух тысяч человек.",
  "Для установки программы скачайте архив, распакуйте его и запустите файл установки. " +
  "Убедитесь, что на диске достаточно свободного места.",
  "오늘은 날씨가 정말 좋아서 친구들과 함께 한강 공원에 갔습니다. 자전거를 타고 치킨도 먹었습니다.",
  "이 프로그램을 사용하려면 먼저 계정을 만들고 로그인해야 합니다.",
  "يعتبر التعليم من أهم العوامل التي تساهم في تقدم المجتمعات وتطورها، ولذلك تحرص الدول على " +
  "الاستثمار في المدارس والجامعات.",
  "भारत एक विशाल देश है जिसमें अनेक भाषाएँ बोली जाती हैं। यहाँ की संस्कृति बहुत प्राचीन और समृद्ध है।",
  "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας και μία από τις αρχαιότερες πόλεις του κόσμου.",
  "עברית היא שפה שמית, והיא השפה הרשמית של מדינת ישראל. היא נכתבת מימין לשמאל.",
  "ภาษาไทยเป็นภาษาที่มีระดับเสียงของคำแน่นอน และใช้อักษรไทยในการเขียน",
];

/** Markup and configuration: HTML, Markdown tables, YAML, CSS, logs. */
export const MARKUP: readonly string[] = [
  `<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>Dashboard</title>
    <link rel="stylesheet" href="/static/app.css?v=3" />
  </head>
  <body class="dark">
    <nav id="top"><a href="/">Home</a> | <a href="/keys">Keys</a></nav>
    <table>
      <tr><th>Key</th><th>Requests</th></tr>
      <tr><td>key_ab12</td><td>1,204</td></tr>
    </table>
    <script type="module" src="/static/app.js"></script>
  </body>
</html>
`,
  `| Model | Input ($/1M) | Output ($/1M) | Context |
|---|---:|---:|:---:|
| gpt-4o | 2.50 | 10.00 | 128k |
| gpt-4o-mini | 0.15 | 0.60 | 128k |
| claude-sonnet-4 | 3.00 | 15.00 | 200k |

Results
=======

*Note*: prices change; check the provider's page.
`,
  `services:
  gateway:
    image: choreoai:latest
    ports:
      - "8000:8000"
    environment:
      CHOREOAI_ENV: production
      CHOREOAI_KEYS_FILE: /run/secrets/keys.json
    depends_on:
      - redis
  redis:
    image: redis:7-alpine
    command: ["redis-server", "--save", "", "--appendonly", "no"]
`,
  `.card {
  display: flex;
  flex-direction: column;
  gap: 0.75rem;
  padding: 16px 24px;
  border-radius: 8px;
  box-shadow: 0 1px 3px rgba(0, 0, 0, 0.12), 0 1px 2px rgba(0, 0, 0, 0.24);
}

.card:hover > .title::after {
  content: "→";
  color: #3b82f6;
}
`,
  `2026-11-25T10:15:32.118Z INFO  request id=7f3a9c method=POST path=/v1/chat/completions status=200 dur=812ms key=key_ab12 model=gpt-4o-mini
2026-11-25T10:15:33.004Z WARN  upstream retry attempt=2 provider=openai status=503 after=250ms
2026-11-25T10:15:33.977Z ERROR request id=7f3aa1 method=POST path=/v1/messages status=429 dur=3ms key=key_cd34 reason="tpm limit"
127.0.0.1 - - [25/Nov/2026:10:15:34 +0000] "GET /health HTTP/1.1" 200 2 "-" "curl/8.5.0"
`,
];
