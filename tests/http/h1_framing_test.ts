import assert from "node:assert/strict";
import { createHttp1Fetch } from "../../src/http/h1_client.ts";
import { ProtocolError } from "../../src/http/h1_parse.ts";
import { chunk, head, rawServer } from "./_h1_servers.ts";

const decoder = new TextDecoder();

async function readText(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<string> {
  const { value, done } = await reader.read();
  assert.equal(done, false);
  return decoder.decode(value);
}

Deno.test("createHttp1Fetch() streams a chunked SSE body event by event", async () => {
  const firstRead = Promise.withResolvers<void>();
  let sentSecond = false;
  await using server = rawServer(async (conn) => {
    await conn.readRequest();
    await conn.write(
      head("200 OK", { "content-type": "text/event-stream", "transfer-encoding": "chunked" }),
    );
    await conn.write(chunk("data: one\n\n"));
    await firstRead.promise;
    sentSecond = true;
    await conn.write(chunk("data: two\n\n"));
    await conn.write("0\r\n\r\n");
    await conn.readRequest(); // keep the connection until the client closes it
  });
  await using client = createHttp1Fetch();
  const response = await client(server.url);
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  assert.equal(await readText(reader), "data: one\n\n");
  assert.equal(sentSecond, false);
  firstRead.resolve();
  assert.equal(await readText(reader), "data: two\n\n");
  assert.equal((await reader.read()).done, true);
});

Deno.test("createHttp1Fetch() retries once when a reused connection was closed", async (t) => {
  await t.step("closed while idle: noticed, next request on a new connection", async () => {
    const closed = Promise.withResolvers<void>();
    await using server = rawServer(async (conn, index) => {
      await conn.readRequest();
      await conn.write(head("200 OK", { "content-length": "2" }) + `r${index}`);
      if (index === 0) {
        conn.conn.close();
        closed.resolve();
        return;
      }
      await conn.readRequest();
    });
    await using client = createHttp1Fetch();
    assert.equal(await (await client(server.url)).text(), "r0");
    await closed.promise;
    await new Promise((resolve) => setTimeout(resolve, 20));
    assert.equal(await (await client(server.url)).text(), "r1");
    assert.equal(server.accepted(), 2);
  });
  await t.step("closed as the request arrives: retried on a new connection", async () => {
    await using server = rawServer(async (conn, index) => {
      await conn.readRequest();
      await conn.write(head("200 OK", { "content-length": "2" }) + `r${index}`);
      if (index === 0) await conn.readRequest(); // the 2nd request: closed unanswered
      else await conn.readRequest();
    });
    await using client = createHttp1Fetch();
    assert.equal(await (await client(server.url, { method: "POST", body: "x" })).text(), "r0");
    assert.equal(await (await client(server.url, { method: "POST", body: "x" })).text(), "r1");
    assert.equal(server.accepted(), 2);
  });
});

Deno.test("createHttp1Fetch() does not reuse after Connection: close or HTTP/1.0", async (t) => {
  for (const variant of ["connection: close", "HTTP/1.0", "until close"]) {
    await t.step(variant, async () => {
      await using server = rawServer(async (conn) => {
        await conn.readRequest();
        const status = variant === "HTTP/1.0" ? "HTTP/1.0 200 OK" : "HTTP/1.1 200 OK";
        const framing = variant === "until close" ? "" : "content-length: 2\r\n";
        const close = variant === "connection: close" ? "connection: close\r\n" : "";
        await conn.write(`${status}\r\n${framing}${close}\r\nok`);
        if (variant === "until close") conn.conn.close();
        else await conn.readRequest();
      });
      await using client = createHttp1Fetch();
      assert.equal(await (await client(server.url)).text(), "ok");
      assert.equal(await (await client(server.url)).text(), "ok");
      assert.equal(server.accepted(), 2);
    });
  }
});

Deno.test("createHttp1Fetch() aborts: rejects, errors the body, closes the socket", async (t) => {
  await t.step("before the headers", async () => {
    const disconnected = Promise.withResolvers<void>();
    const received = Promise.withResolvers<void>();
    await using server = rawServer(async (conn) => {
      await conn.readRequest();
      received.resolve();
      await conn.closedByPeer();
      disconnected.resolve();
    });
    await using client = createHttp1Fetch();
    const controller = new AbortController();
    const pending = client(server.url, { signal: controller.signal });
    await received.promise;
    controller.abort();
    const error = await pending.catch((e) => e);
    assert.ok(error instanceof DOMException && error.name === "AbortError", String(error));
    await disconnected.promise;
  });
  await t.step("while the body streams", async () => {
    const disconnected = Promise.withResolvers<void>();
    await using server = rawServer(async (conn) => {
      await conn.readRequest();
      await conn.write(head("200 OK", { "transfer-encoding": "chunked" }) + chunk("first"));
      await conn.closedByPeer();
      disconnected.resolve();
    });
    await using client = createHttp1Fetch();
    const controller = new AbortController();
    const response = await client(server.url, { signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    assert.equal(await readText(reader), "first");
    const next = reader.read();
    const reason = new Error("stop");
    controller.abort(reason);
    await assert.rejects(next, reason);
    await disconnected.promise;
  });
  await t.step("a cancelled body closes the socket", async () => {
    const disconnected = Promise.withResolvers<void>();
    await using server = rawServer(async (conn) => {
      await conn.readRequest();
      await conn.write(head("200 OK", { "content-length": "1000000" }) + "partial");
      await conn.closedByPeer();
      disconnected.resolve();
    });
    await using client = createHttp1Fetch();
    const response = await client(server.url);
    await response.body?.cancel();
    await disconnected.promise;
  });
});

Deno.test("createHttp1Fetch() decodes gzip the client did not ask for", async (t) => {
  const plain = "hello hello hello ".repeat(50);
  const gzipped = await new Response(
    new Blob([plain]).stream().pipeThrough(new CompressionStream("gzip")),
  ).bytes();
  await using server = rawServer(async (conn) => {
    while (await conn.readRequest() !== null) {
      await conn.write(
        head("200 OK", { "content-encoding": "gzip", "content-length": String(gzipped.length) }),
      );
      await conn.write(gzipped);
    }
  });
  await using client = createHttp1Fetch();
  await t.step("decoded, content-encoding and content-length removed", async () => {
    const response = await client(server.url);
    assert.equal(await response.text(), plain);
    assert.equal(response.headers.get("content-encoding"), null);
    assert.equal(response.headers.get("content-length"), null);
  });
  await t.step("left as is when the request set accept-encoding", async () => {
    const response = await client(server.url, { headers: { "accept-encoding": "gzip" } });
    assert.deepEqual(await response.bytes(), gzipped);
    assert.equal(response.headers.get("content-encoding"), "gzip");
  });
});

Deno.test("createHttp1Fetch() joins repeated headers and skips 1xx responses", async () => {
  await using server = rawServer(async (conn) => {
    await conn.readRequest();
    await conn.write("HTTP/1.1 100 Continue\r\n\r\n");
    await conn.write(head("103 Early Hints", { link: "</a>; rel=preload" }));
    await conn.write(
      head("200 OK", [
        ["X-Multi", "1"],
        ["x-multi", "2"],
        ["set-cookie", "a=1"],
        ["set-cookie", "b=2"],
        ["content-length", "4"],
      ]) + "body",
    );
    await conn.readRequest();
  });
  await using client = createHttp1Fetch();
  const response = await client(server.url);
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("x-multi"), "1, 2");
  assert.deepEqual(response.headers.getSetCookie(), ["a=1", "b=2"]);
  assert.equal(response.headers.get("link"), null);
  assert.equal(await response.text(), "body");
});

Deno.test("createHttp1Fetch() rejects malformed responses with a TypeError", async (t) => {
  const cases: [string, string][] = [
    ["a bad status line", "HTTP/1.1 OK\r\n\r\n"],
    ["not HTTP", "SSH-2.0-OpenSSH\r\n\r\n"],
    ["a bad header line", "HTTP/1.1 200 OK\r\nno colon here\r\n\r\n"],
    ["a bad content-length", "HTTP/1.1 200 OK\r\ncontent-length: 1x\r\n\r\n"],
    ["conflicting lengths", "HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n"],
    ["an unknown transfer-encoding", "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n"],
    ["a closed connection", ""],
  ];
  for (const [name, response] of cases) {
    await t.step(name, async () => {
      await using server = rawServer(async (conn) => {
        await conn.readRequest();
        await conn.write(response);
      });
      await using client = createHttp1Fetch();
      const error = await client(server.url).catch((e) => e);
      assert.ok(error instanceof TypeError, String(error));
      assert.ok(error.cause instanceof Error, String(error.cause));
      if (response !== "") assert.ok(error.cause instanceof ProtocolError, String(error.cause));
    });
  }
  await t.step("a body cut short errors the stream with a TypeError", async () => {
    await using server = rawServer(async (conn) => {
      await conn.readRequest();
      await conn.write(head("200 OK", { "content-length": "999999" }) + "short");
    });
    await using client = createHttp1Fetch();
    const response = await client(server.url);
    await assert.rejects(response.text(), TypeError);
  });
});

Deno.test("createHttp1Fetch() bounds its idle connections", async (t) => {
  const serve = () =>
    rawServer(async (conn) => {
      while (await conn.readRequest() !== null) {
        await conn.write(head("200 OK", { "content-length": "2" }) + "ok");
      }
    });
  await t.step("one idle past the idle timeout is not reused", async () => {
    await using server = serve();
    let now = 0;
    await using client = createHttp1Fetch({ idleTimeoutMs: 1000, now: () => now });
    await (await client(server.url)).text();
    now = 999;
    await (await client(server.url)).text();
    assert.equal(server.accepted(), 1);
    now = 2000;
    await (await client(server.url)).text();
    assert.equal(server.accepted(), 2);
  });
  await t.step("at most maxIdlePerOrigin are kept", async () => {
    await using server = serve();
    await using client = createHttp1Fetch({ maxIdlePerOrigin: 1 });
    const three = () =>
      Promise.all([0, 1, 2].map(async () => await (await client(server.url)).text()));
    await three();
    assert.equal(server.accepted(), 3);
    await three();
    assert.equal(server.accepted(), 5); // one kept, two new
  });
  await t.step("close() closes idle connections", async () => {
    const disconnected = Promise.withResolvers<void>();
    await using server = rawServer(async (conn) => {
      await conn.readRequest();
      await conn.write(head("200 OK", { "content-length": "2" }) + "ok");
      await conn.closedByPeer();
      disconnected.resolve();
    });
    const client = createHttp1Fetch();
    await (await client(server.url)).text();
    await client.close();
    await disconnected.promise;
    await assert.rejects(client(server.url), TypeError);
  });
});
