import assert from "node:assert/strict";
import { GatewayError } from "../../src/errors.ts";
import { isJsonContentType, readJsonBody } from "../../src/http/body.ts";
import { createDeadlines } from "../../src/deadlines.ts";

/** Body limits with a real deadline tracker on the wall clock. */
function limitsOf(maxBytes: number, timeoutMs: number) {
  return { maxBytes, timeoutMs, deadlines: createDeadlines(() => performance.now()) };
}

const URL_ = "http://gateway.test/v1/chat/completions";
const encoder = new TextEncoder();

function jsonRequest(body: BodyInit | null, headers: Record<string, string> = {}): Request {
  return new Request(URL_, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
}

async function rejection(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof GatewayError, `expected a GatewayError, got ${error}`);
    return error;
  }
  assert.fail("expected readJsonBody() to reject");
}

Deno.test("isJsonContentType() recognises JSON media types", async (t) => {
  const cases: [string | null, boolean][] = [
    ["application/json", true],
    ["application/json; charset=utf-8", true],
    ["application/json;charset=UTF-8", true],
    ["Application/JSON", true],
    ["application/vnd.api+json", true],
    ["application/merge-patch+json; charset=utf-8", true],
    [" application/json ", true],
    ["text/plain", false],
    ["text/json", false],
    ["application/jsonp", false],
    ["application/json-seq", false],
    ["application/x-www-form-urlencoded", false],
    ["multipart/form-data; boundary=x", false],
    ["", false],
    [null, false],
  ];
  for (const [value, expected] of cases) {
    await t.step(`${JSON.stringify(value)} → ${expected}`, () => {
      assert.equal(isJsonContentType(value), expected);
    });
  }
});

Deno.test("readJsonBody() returns the parsed JSON object", async (t) => {
  const limits = limitsOf(1024, 1000);
  await t.step("a plain body", async () => {
    const body = { model: "gpt-4o", messages: [{ role: "user", content: "héllo 🦄" }] };
    assert.deepEqual(await readJsonBody(jsonRequest(JSON.stringify(body)), limits), body);
  });
  await t.step("a vendor JSON type", async () => {
    const request = jsonRequest('{"a":1}', { "content-type": "application/vnd.api+json" });
    assert.deepEqual(await readJsonBody(request, limits), { a: 1 });
  });
  await t.step("a streamed body split inside a multi-byte character", async () => {
    const bytes = encoder.encode('{"text":"é🦄"}');
    const parts = [bytes.slice(0, 10), bytes.slice(10, 13), bytes.slice(13)];
    const request = jsonRequest(ReadableStream.from(parts));
    assert.deepEqual(await readJsonBody(request, limits), { text: "é🦄" });
  });
  await t.step("a body of exactly maxBytes", async () => {
    const text = `{"p":"${"x".repeat(1024 - 8)}"}`;
    assert.equal(encoder.encode(text).byteLength, 1024);
    assert.deepEqual(await readJsonBody(jsonRequest(text), limits), { p: "x".repeat(1016) });
  });
});

Deno.test("readJsonBody() answers 415 for a body that is not JSON", async (t) => {
  for (const type of ["text/plain", "application/x-www-form-urlencoded", undefined]) {
    await t.step(String(type), async () => {
      const request = new Request(URL_, {
        method: "POST",
        body: encoder.encode('{"a":1}'),
        headers: type === undefined ? {} : { "content-type": type },
      });
      const error = await rejection(readJsonBody(request, limitsOf(1024, 1000)));
      assert.equal(error.status, 415);
      assert.equal(error.code, "unsupported_media_type");
    });
  }
});

Deno.test("readJsonBody() answers 413 from Content-Length without reading the body", async () => {
  let pulls = 0;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulls++;
      controller.enqueue(encoder.encode("{}"));
    },
    cancel() {
      cancelled = true;
    },
  }, { highWaterMark: 0 });
  const request = jsonRequest(body, { "content-length": "101" });
  const error = await rejection(readJsonBody(request, limitsOf(100, 1000)));
  assert.equal(error.status, 413);
  assert.equal(error.code, "request_too_large");
  assert.equal(pulls, 0);
  assert.equal(request.bodyUsed, false);
  await request.body?.cancel();
  assert.ok(cancelled);
});

Deno.test("readJsonBody() answers 413 once a streamed body passes the limit", async (t) => {
  const cases: [string, Record<string, string>][] = [
    ["no Content-Length", {}],
    ["Content-Length that understates the body", { "content-length": "10" }],
  ];
  for (const [name, headers] of cases) {
    await t.step(name, async () => {
      let sent = 0;
      let cancelled = false;
      const body = new ReadableStream<Uint8Array>({
        pull(controller) {
          sent += 60;
          controller.enqueue(encoder.encode(" ".repeat(60)));
        },
        cancel() {
          cancelled = true;
        },
      });
      const error = await rejection(
        readJsonBody(jsonRequest(body, headers), limitsOf(100, 1000)),
      );
      assert.equal(error.status, 413);
      assert.equal(error.code, "request_too_large");
      assert.ok(sent < 1000, `read ${sent} bytes before refusing`);
      assert.ok(cancelled, "the body stream should be cancelled");
    });
  }
});

Deno.test("readJsonBody() answers 408 when the body does not arrive in time", async (t) => {
  const cases: [string, () => UnderlyingDefaultSource<Uint8Array>][] = [
    ["a body that never sends", () => ({})],
    ["a body that trickles forever", () => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      return {
        pull: (controller) =>
          new Promise<void>((resolve) => {
            timer = setTimeout(() => {
              controller.enqueue(encoder.encode(" "));
              resolve();
            }, 5);
          }),
        cancel: () => clearTimeout(timer),
      };
    }],
  ];
  for (const [name, source] of cases) {
    await t.step(name, async () => {
      const started = performance.now();
      const request = jsonRequest(new ReadableStream<Uint8Array>(source()));
      const error = await rejection(readJsonBody(request, limitsOf(1_000_000, 50)));
      const elapsed = performance.now() - started;
      assert.equal(error.status, 408);
      assert.equal(error.code, "request_timeout");
      assert.ok(elapsed >= 45 && elapsed < 1000, `took ${elapsed} ms`);
    });
  }
});

Deno.test("readJsonBody() answers 400 invalid_json for bytes that are not JSON", async (t) => {
  const cases: [string, BodyInit | null][] = [
    ["no body", null],
    ["empty body", ""],
    ["truncated JSON", '{"model":'],
    ["plain text", "hello"],
    ["trailing garbage", '{"a":1} x'],
    ["invalid UTF-8", new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d])],
    ["a lone continuation byte", new Uint8Array([0x7b, 0x7d, 0x80])],
  ];
  for (const [name, body] of cases) {
    await t.step(name, async () => {
      const error = await rejection(
        readJsonBody(jsonRequest(body), limitsOf(1024, 1000)),
      );
      assert.equal(error.status, 400);
      assert.equal(error.type, "invalid_request_error");
      assert.equal(error.code, "invalid_json");
    });
  }
});

Deno.test("readJsonBody() answers 400 invalid_request for JSON that is not an object", async (t) => {
  for (const text of ["[]", '[{"model":"x"}]', "42", '"text"', "null", "true"]) {
    await t.step(text, async () => {
      const error = await rejection(
        readJsonBody(jsonRequest(text), limitsOf(1024, 1000)),
      );
      assert.equal(error.status, 400);
      assert.equal(error.code, "invalid_request");
    });
  }
});
