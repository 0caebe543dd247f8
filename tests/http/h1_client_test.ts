import assert from "node:assert/strict";
import { createHttp1Fetch, usesProxyEnvironment } from "../../src/http/h1_client.ts";
import { countingServer } from "./_h1_servers.ts";
import { selfSignedCertificate } from "./_self_signed.ts";

const encoder = new TextEncoder();

Deno.test("createHttp1Fetch() answers JSON, sending method, headers and body", async () => {
  let seen: { method: string; headers: Headers; body: string; url: string } | undefined;
  await using server = countingServer(async (request) => {
    seen = {
      method: request.method,
      headers: request.headers,
      body: await request.text(),
      url: request.url,
    };
    return Response.json({ ok: true }, { headers: { "x-request-id": "r1" } });
  });
  await using client = createHttp1Fetch();
  const request = new Request(`${server.url}/v1/chat?x=1`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer k" },
    body: JSON.stringify({ model: "m" }),
  });
  const response = await client(request, { signal: new AbortController().signal });
  assert.equal(response.status, 200);
  assert.equal(response.ok, true);
  assert.equal(response.statusText, "OK");
  assert.equal(response.headers.get("content-type"), "application/json");
  assert.equal(response.headers.get("x-request-id"), "r1");
  assert.deepEqual(await response.json(), { ok: true });
  assert.equal(seen?.method, "POST");
  assert.equal(new URL(seen?.url ?? "").search, "?x=1");
  assert.equal(seen?.body, '{"model":"m"}');
  assert.equal(seen?.headers.get("content-length"), "13");
  assert.equal(seen?.headers.get("authorization"), "Bearer k");
  assert.equal(seen?.headers.get("host"), new URL(server.url).host);
  assert.equal(seen?.headers.get("accept"), "*/*");
  assert.match(seen?.headers.get("user-agent") ?? "", /^Deno\//);
});

Deno.test("createHttp1Fetch() takes a URL or string with init, as fetch does", async (t) => {
  await using server = countingServer(async (request) =>
    new Response(`${request.method} ${request.headers.get("content-type")} ${await request.text()}`)
  );
  await using client = createHttp1Fetch();
  const cases: [string, RequestInit, string][] = [
    ["string body", { method: "post", body: "hi" }, "POST text/plain;charset=UTF-8 hi"],
    ["bytes", { method: "PUT", body: encoder.encode("ab") }, "PUT null ab"],
    ["array buffer", { method: "PATCH", body: encoder.encode("xy").buffer }, "PATCH null xy"],
    [
      "search params",
      { method: "POST", body: new URLSearchParams({ a: "1" }) },
      "POST application/x-www-form-urlencoded;charset=UTF-8 a=1",
    ],
    ["a stream", {
      method: "POST",
      body: ReadableStream.from([encoder.encode("s1"), encoder.encode("s2")]),
    }, "POST null s1s2"],
    ["no body", {}, "GET null "],
  ];
  for (const [name, init, expected] of cases) {
    await t.step(name, async () => {
      const response = await client(new URL(`${server.url}/`), init);
      assert.equal(await response.text(), expected);
    });
  }
  await t.step("GET with a body is a TypeError", async () => {
    await assert.rejects(client(server.url, { body: "x" }), TypeError);
  });
});

Deno.test("createHttp1Fetch() hands other schemes and streamed bodies to the fallback", async () => {
  const calls: string[] = [];
  const fallback = ((input: RequestInfo | URL) => {
    calls.push(String(input instanceof Request ? input.url : input));
    return Promise.resolve(new Response("from fallback"));
  }) as typeof fetch;
  await using client = createHttp1Fetch({ fallback });
  assert.equal(await (await client("data:text/plain,hi")).text(), "from fallback");
  const stream = ReadableStream.from([encoder.encode("x")]);
  await (await client("http://127.0.0.1:9/", { method: "POST", body: stream })).text();
  assert.deepEqual(calls, ["data:text/plain,hi", "http://127.0.0.1:9/"]);
});

Deno.test("createHttp1Fetch() returns error statuses with their body", async () => {
  await using server = countingServer(() =>
    Response.json({ error: { message: "slow down" } }, { status: 429, statusText: "Too Many" })
  );
  await using client = createHttp1Fetch();
  const response = await client(server.url);
  assert.equal(response.status, 429);
  assert.equal(response.ok, false);
  assert.equal(response.statusText, "Too Many Requests"); // Deno.serve sends the standard reason
  assert.equal(await response.text(), '{"error":{"message":"slow down"}}');
});

Deno.test("createHttp1Fetch() reuses a connection once a body was read to its end", async (t) => {
  const big = new Uint8Array(300_000).fill(7);
  await using server = countingServer((request) => {
    const path = new URL(request.url).pathname;
    if (path === "/big") return new Response(big);
    if (path === "/stream") {
      return new Response(ReadableStream.from(["a", "b", "c"].map((s) => encoder.encode(s))));
    }
    return new Response("small");
  });
  await using client = createHttp1Fetch();
  await t.step("small, large and chunked bodies, one after another", async () => {
    for (const path of ["/", "/big", "/stream", "/", "/big", "/stream"]) {
      const response = await client(`${server.url}${path}`);
      await response.arrayBuffer();
    }
    assert.equal(server.connections(), 1);
  });
  await t.step("concurrent requests open more; they are reused afterwards", async () => {
    const round = () =>
      Promise.all([1, 2, 3].map(async () => await (await client(server.url)).text()));
    await round();
    const afterFirst = server.connections();
    await round();
    assert.equal(server.connections(), afterFirst);
    assert.ok(afterFirst <= 3);
  });
});

Deno.test("createHttp1Fetch() has no body for HEAD, 204 and 304, and reuses the connection", async () => {
  await using server = countingServer((request) => {
    const path = new URL(request.url).pathname;
    if (path === "/204") return new Response(null, { status: 204 });
    if (path === "/304") return new Response(null, { status: 304 });
    return new Response("twelve bytes");
  });
  await using client = createHttp1Fetch();
  const headResponse = await client(server.url, { method: "HEAD" });
  assert.equal(headResponse.body, null);
  assert.equal(headResponse.headers.get("content-length"), "12");
  for (const status of [204, 304]) {
    const response = await client(`${server.url}/${status}`);
    assert.equal(response.status, status);
    assert.equal(response.body, null);
  }
  assert.equal(await (await client(server.url)).text(), "twelve bytes");
  assert.equal(server.connections(), 1);
});

Deno.test("createHttp1Fetch() reads a body of several megabytes, whole or streamed", async (t) => {
  const big = new Uint8Array(5 * 1024 * 1024);
  for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
  await using server = countingServer((request) =>
    new URL(request.url).pathname === "/chunked"
      ? new Response(ReadableStream.from([big.subarray(0, 3e6), big.subarray(3e6)]))
      : new Response(big)
  );
  await using client = createHttp1Fetch();
  for (const path of ["/", "/chunked"]) {
    await t.step(path, async () => {
      const response = await client(`${server.url}${path}`);
      assert.deepEqual(new Uint8Array(await response.arrayBuffer()), big);
    });
  }
});

Deno.test("createHttp1Fetch() follows redirects unless told not to", async (t) => {
  let seen: { method: string; body: string; auth: string | null } | undefined;
  await using server = countingServer(async (request) => {
    const path = new URL(request.url).pathname;
    if (path === "/303") return new Response(null, { status: 303, headers: { location: "/end" } });
    if (path === "/307") return new Response(null, { status: 307, headers: { location: "/end" } });
    seen = {
      method: request.method,
      body: await request.text(),
      auth: request.headers.get("authorization"),
    };
    return new Response("end");
  });
  await using client = createHttp1Fetch();
  const init = { method: "POST", body: "b", headers: { authorization: "Bearer k" } };
  await t.step("303 becomes a GET", async () => {
    const response = await client(`${server.url}/303`, init);
    assert.equal(await response.text(), "end");
    assert.equal(response.redirected, true);
    assert.equal(response.url, `${server.url}/end`);
    assert.deepEqual(seen, { method: "GET", body: "", auth: "Bearer k" });
  });
  await t.step("307 keeps method and body", async () => {
    await (await client(`${server.url}/307`, init)).text();
    assert.deepEqual(seen, { method: "POST", body: "b", auth: "Bearer k" });
  });
  await t.step("manual returns the redirect", async () => {
    const response = await client(`${server.url}/307`, { redirect: "manual" });
    assert.equal(response.status, 307);
    assert.equal(response.headers.get("location"), "/end");
  });
  await t.step("error rejects", async () => {
    await assert.rejects(client(`${server.url}/307`, { redirect: "error" }), TypeError);
  });
});

Deno.test("createHttp1Fetch() rejects a refused connection with a TypeError and its cause", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  await using client = createHttp1Fetch();
  // By name, every address the name resolves to is tried before giving up.
  for (const host of ["127.0.0.1", "localhost"]) {
    const error = await client(`http://${host}:${port}/`).catch((e) => e);
    assert.ok(error instanceof TypeError, String(error));
    assert.ok(error.cause instanceof Deno.errors.ConnectionRefused, String(error.cause));
  }
});

Deno.test("createHttp1Fetch() rejects at once with the reason of an aborted signal", async () => {
  await using client = createHttp1Fetch();
  const error = await client("http://127.0.0.1:9/", { signal: AbortSignal.abort() }).catch((e) =>
    e
  );
  assert.ok(error instanceof DOMException);
  assert.equal(error.name, "AbortError");
  const reason = new Error("mine");
  const controller = new AbortController();
  controller.abort(reason);
  await assert.rejects(client("http://127.0.0.1:9/", { signal: controller.signal }), reason);
});

Deno.test("usesProxyEnvironment() tells when Deno's fetch would use a proxy", async (t) => {
  const cases: [Record<string, string | undefined>, boolean][] = [
    [{}, false],
    [{ HTTP_PROXY: "" }, false],
    [{ HTTP_PROXY: "http://proxy:3128" }, true],
    [{ https_proxy: "http://proxy:3128" }, true],
    [{ ALL_PROXY: "socks5://proxy:1080" }, true],
    [{ NO_PROXY: "*" }, false],
  ];
  for (const [env, expected] of cases) {
    await t.step(JSON.stringify(env), () => assert.equal(usesProxyEnvironment(env), expected));
  }
});

Deno.test("createHttp1Fetch() speaks https with SNI and the given root certificates", async () => {
  const { cert, key } = await selfSignedCertificate();
  const ports = new Set<number>();
  await using server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, cert, key, onListen() {} },
    (request, info) => {
      ports.add(info.remoteAddr.port);
      return new Response(`secure ${new URL(request.url).pathname}`);
    },
  );
  const url = `https://localhost:${server.addr.port}`;
  await using client = createHttp1Fetch({ caCerts: [cert] });
  assert.equal(await (await client(`${url}/a`)).text(), "secure /a");
  assert.equal(await (await client(`${url}/b`)).text(), "secure /b");
  assert.equal(ports.size, 1);
  await using untrusting = createHttp1Fetch();
  const error = await untrusting(`${url}/a`).catch((e) => e);
  assert.ok(error instanceof TypeError, String(error));
});
