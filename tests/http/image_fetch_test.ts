import assert from "node:assert/strict";
import { GatewayError } from "../../src/errors.ts";
import { inlineImageUrls, isPublicAddress } from "../../src/http/image_fetch.ts";
import { parseChatCompletionRequest } from "../../src/openai/schema.ts";

function chatWithImage(url: string) {
  const parsed = parseChatCompletionRequest({
    model: "gemini-2.5-flash",
    messages: [{
      role: "user",
      content: [{ type: "text", text: "look" }, {
        type: "image_url",
        image_url: { url, detail: "low" },
      }],
    }],
  });
  if (!parsed.ok) throw parsed.error;
  return parsed.request;
}

/** A stand-in for the network: answers by URL, records what was fetched. */
function network(answers: Record<string, () => Response>, dns: Record<string, string[]>) {
  const fetched: string[] = [];
  return {
    fetched,
    deps: {
      fetch: ((input: URL | string) => {
        const url = String(input);
        fetched.push(url);
        const answer = answers[url];
        return answer === undefined
          ? Promise.reject(new TypeError("connection refused"))
          : Promise.resolve(answer());
      }) as typeof fetch,
      resolve: (host: string) => Promise.resolve(dns[host] ?? []),
      maxBytes: 1_000,
      maxImages: 3,
      maxTotalBytes: 2_500,
      timeoutMs: 1_000,
    },
  };
}

Deno.test("isPublicAddress() allows public unicast only", async (t) => {
  const cases: [string, boolean][] = [
    ["93.184.216.34", true],
    ["2606:4700::6810:85e5", true],
    ["127.0.0.1", false],
    ["10.1.2.3", false],
    ["172.16.0.1", false],
    ["192.168.1.1", false],
    ["169.254.169.254", false],
    ["0.0.0.0", false],
    ["::1", false],
    ["fe80::1", false],
    ["fd00::1", false],
    ["::ffff:127.0.0.1", false],
    ["::ffff:10.0.0.1", false],
    ["not an ip", false],
  ];
  for (const [address, expected] of cases) {
    await t.step(
      `${address} → ${expected}`,
      () => assert.equal(isPublicAddress(address), expected),
    );
  }
});

Deno.test("inlineImageUrls() turns a public image into a data: URL", async () => {
  const net = network({
    "https://images.example.com/cat.png": () =>
      new Response(new Uint8Array([137, 80, 78, 71]), { headers: { "content-type": "image/png" } }),
  }, { "images.example.com": ["93.184.216.34"] });
  const result = await inlineImageUrls(
    chatWithImage("https://images.example.com/cat.png"),
    net.deps,
  );
  assert.ok(!(result instanceof GatewayError));
  const part =
    (result.messages[0]?.content as { image_url?: { url: string; detail?: string } }[])[1];
  assert.equal(part?.image_url?.url, "data:image/png;base64,iVBORw==");
  assert.equal(part?.image_url?.detail, "low", "other fields kept");
});

Deno.test("inlineImageUrls() refuses what it must not or cannot fetch, naming the part", async (t) => {
  const png = () => new Response(new Uint8Array(10), { headers: { "content-type": "image/png" } });
  const cases: [
    string,
    string,
    Record<string, () => Response>,
    Record<string, string[]>,
    RegExp,
  ][] = [
    [
      "a host resolving to a private address",
      "https://intranet.example.com/a.png",
      { "https://intranet.example.com/a.png": png },
      { "intranet.example.com": ["10.0.0.5"] },
      /not a public address/,
    ],
    [
      "a host with one private address among public ones",
      "https://mixed.example.com/a.png",
      { "https://mixed.example.com/a.png": png },
      { "mixed.example.com": ["93.184.216.34", "127.0.0.1"] },
      /not a public address/,
    ],
    [
      "a loopback literal",
      "http://127.0.0.1:8080/a.png",
      { "http://127.0.0.1:8080/a.png": png },
      {},
      /not a public address/,
    ],
    ["cloud metadata", "http://169.254.169.254/latest", {}, {}, /not a public address/],
    ["an IPv6 loopback literal", "http://[::1]/a.png", {}, {}, /not a public address/],
    [
      "a name that does not resolve",
      "https://nowhere.example.com/a.png",
      {},
      {},
      /not a public address/,
    ],
    [
      "a redirect",
      "https://r.example.com/a.png",
      {
        "https://r.example.com/a.png": () =>
          new Response(null, { status: 302, headers: { location: "http://10.0.0.1/" } }),
      },
      { "r.example.com": ["93.184.216.34"] },
      /HTTP 302/,
    ],
    [
      "not an image",
      "https://t.example.com/a.html",
      {
        "https://t.example.com/a.html": () =>
          new Response("<html>", { headers: { "content-type": "text/html" } }),
      },
      { "t.example.com": ["93.184.216.34"] },
      /text\/html/,
    ],
    [
      "too large",
      "https://big.example.com/a.png",
      {
        "https://big.example.com/a.png": () =>
          new Response(new Uint8Array(5_000), { headers: { "content-type": "image/png" } }),
      },
      { "big.example.com": ["93.184.216.34"] },
      /larger than 1000 bytes/,
    ],
    [
      "unreachable",
      "https://down.example.com/a.png",
      {},
      { "down.example.com": ["93.184.216.34"] },
      /could not be fetched/,
    ],
  ];
  for (const [name, url, answers, dns, message] of cases) {
    await t.step(name, async () => {
      const net = network(answers, dns);
      const result = await inlineImageUrls(chatWithImage(url), net.deps);
      assert.ok(result instanceof GatewayError, name);
      assert.equal(result.status, 400);
      assert.equal(result.param, "messages[0].content[1].image_url");
      assert.match(result.message, message);
      if (/public address/.test(message.source)) {
        assert.deepEqual(net.fetched, [], "nothing fetched");
      }
    });
  }
});

Deno.test("inlineImageUrls() leaves data: URLs and text alone", async () => {
  const net = network({}, {});
  const chat = chatWithImage("data:image/png;base64,AAAA");
  const result = await inlineImageUrls(chat, net.deps);
  assert.deepEqual(result, chat);
  assert.deepEqual(net.fetched, []);
});

/** A chat whose one user message holds an image part per URL. */
function chatWithImages(urls: readonly string[]) {
  const parsed = parseChatCompletionRequest({
    model: "gemini-2.5-flash",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "user", content: urls.map((url) => ({ type: "image_url", image_url: { url } })) },
    ],
  });
  if (!parsed.ok) throw parsed.error;
  return parsed.request;
}

/** `count` public PNG images of `size` bytes each, and the network that serves them. */
function images(count: number, size: number) {
  const urls = Array.from({ length: count }, (_, i) => `https://images.example.com/${i}.png`);
  const net = network(
    Object.fromEntries(urls.map((url) => [
      url,
      () => new Response(new Uint8Array(size), { headers: { "content-type": "image/png" } }),
    ])),
    { "images.example.com": ["93.184.216.34"] },
  );
  return { urls, net };
}

Deno.test("inlineImageUrls() fetches at most maxImages URLs per request, and none when there are more", async (t) => {
  await t.step("at the limit: all fetched", async () => {
    const { urls, net } = images(3, 10);
    const result = await inlineImageUrls(chatWithImages(urls), net.deps);
    assert.ok(!(result instanceof GatewayError), String(result));
    assert.equal(net.fetched.length, 3);
  });
  await t.step("one more: a 400 naming the limit, nothing fetched", async () => {
    const { urls, net } = images(4, 10);
    const result = await inlineImageUrls(
      chatWithImages([...urls, "data:image/png;base64,AAAA"]),
      net.deps,
    );
    assert.ok(result instanceof GatewayError);
    assert.equal(result.status, 400);
    assert.equal(result.type, "invalid_request_error");
    assert.equal(result.param, "messages");
    assert.match(result.message, /at most 3 image URLs/);
    assert.match(result.message, /has 4/);
    assert.deepEqual(net.fetched, []);
  });
});

Deno.test("inlineImageUrls() fetches at most maxTotalBytes per request, all images together", async (t) => {
  await t.step("within the total: all inlined", async () => {
    const { urls, net } = images(3, 800);
    const result = await inlineImageUrls(chatWithImages(urls), net.deps);
    assert.ok(!(result instanceof GatewayError), String(result));
  });
  await t.step("past it: a 400 naming the total limit at the image that passes it", async () => {
    const { urls, net } = images(3, 900);
    const result = await inlineImageUrls(chatWithImages(urls), net.deps);
    assert.ok(result instanceof GatewayError);
    assert.equal(result.status, 400);
    assert.equal(result.param, "messages[1].content[2].image_url");
    assert.match(result.message, /2500 bytes/);
    assert.match(result.message, /all images of one request/);
  });
});
