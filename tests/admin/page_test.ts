/**
 * The admin page over real HTTP: public (no key, even with a key list) while the API is not,
 * served with the contract's security headers and a strict CSP it can live with (no inline
 * script or style, nothing from elsewhere), right content types, ETags and 304s, a year of
 * caching for the versioned vendored files, 404/405 for the rest; and every file it loads is in
 * the asset list.
 */
import assert from "node:assert/strict";
import { ADMIN_ASSETS } from "../../src/admin/assets.ts";
import { ADMIN_CSP, serveAdminPage } from "../../src/admin/page.ts";
import { parseConfig } from "../../src/config.ts";
import { compileKeyIndex, createKeyListVerifier } from "../../src/keys/verify.ts";
import { createLogger } from "../../src/log.ts";
import { type AppDeps, createHandler } from "../../src/server.ts";
import { makeKey } from "../_helpers/keys.ts";

const ASSETS_DIR = new URL("../../src/admin/assets/", import.meta.url);

/** The gateway with a key list (one admin key), serving the page unless `page` is false. */
function serve(page = true) {
  const admin = makeKey({ role: "admin" });
  const index = compileKeyIndex({ version: 1, keys: [admin.record] });
  const deps: AppDeps = {
    config: parseConfig({ CHOREOAI_PORT: "0" }),
    verifier: createKeyListVerifier(() => index),
    fetch: () => Promise.reject(new Error("no upstream in this test")),
    now: Date.now,
    randomId: () => crypto.randomUUID(),
    log: createLogger(() => {}, Date.now),
    ...(page ? { adminPage: serveAdminPage } : {}),
  };
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, createHandler(deps));
  return Object.assign(server, { url: `http://127.0.0.1:${server.addr.port}` });
}

async function get(url: string, init: RequestInit = {}) {
  const response = await fetch(url, init);
  return { status: response.status, headers: response.headers, body: await response.text() };
}

Deno.test("GET /admin and /admin/ serve the page with no key, under the contract's headers", async (t) => {
  await using server = serve();
  for (const path of ["/admin", "/admin/"]) {
    await t.step(path, async () => {
      const { status, headers, body } = await get(`${server.url}${path}`);
      assert.equal(status, 200);
      assert.equal(headers.get("content-type"), "text/html; charset=utf-8");
      assert.equal(headers.get("content-security-policy"), ADMIN_CSP);
      assert.equal(headers.get("x-frame-options"), "DENY");
      assert.equal(headers.get("x-content-type-options"), "nosniff");
      assert.equal(headers.get("referrer-policy"), "no-referrer");
      assert.equal(headers.get("cache-control"), "no-cache");
      assert.match(headers.get("etag") ?? "", /^"[0-9a-f]{32}"$/);
      assert.match(body, /<title>ChoreoAI admin<\/title>/);
    });
  }
  await t.step("the API beside it still needs a key", async () => {
    const { status } = await get(`${server.url}/admin/api/overview`);
    assert.equal(status, 401);
  });
  await t.step("a path that normalises into the API is not the page", async () => {
    const { status } = await get(`${server.url}/admin/assets/%2e%2e/api/keys`);
    assert.equal(status, 401);
  });
});

Deno.test("the page loads only its own files, with no inline script or style", async () => {
  const html = await Deno.readTextFile(new URL("index.html", ASSETS_DIR));
  for (const [tag] of html.matchAll(/<script\b[^>]*>/g)) {
    assert.match(tag, / src="\/admin\/assets\/[^"]+"/, tag);
  }
  assert.doesNotMatch(html, /<script\b[^>]*>[^<\s]/, "no inline script");
  assert.doesNotMatch(html, /<style|\sstyle=|\son[a-z]+=/i, "no inline style or handler");
  assert.doesNotMatch(html, /(src|href)="(https?:)?\/\//, "nothing from elsewhere");
  const referenced = [...html.matchAll(/(?:src|href)="\/admin\/assets\/([^"]+)"/g)]
    .map((match) => match[1]?.replace(/%UPLOT_(SCRIPT|STYLE)%/, "uplot"));
  assert.ok(referenced.length >= 5);
  for (const name of referenced) {
    if (name !== "uplot") assert.ok(ADMIN_ASSETS.has(name ?? ""), `${name} is served`);
  }
  for (const [name, asset] of ADMIN_ASSETS) {
    if (!name.endsWith(".js") || asset.immutable) continue;
    for (const [, imported] of asset.body.matchAll(/from "\.\/([^"]+)"/g)) {
      assert.ok(ADMIN_ASSETS.has(imported ?? ""), `${name} imports ${imported}, which is served`);
    }
    assert.doesNotMatch(asset.body, /innerHTML|outerHTML|insertAdjacentHTML|setAttribute\("style"/);
    assert.doesNotMatch(asset.body, /https?:\/\//, `${name} calls nothing elsewhere`);
  }
  const files: string[] = [];
  for await (const entry of Deno.readDir(ASSETS_DIR)) {
    if (entry.name !== "index.html") files.push(entry.name);
  }
  const served = [...ADMIN_ASSETS].filter(([, asset]) => !asset.immutable).map(([name]) => name);
  assert.deepEqual(files.sort(), served.sort(), "every file of src/admin/assets/ is served");
});

Deno.test("every asset: content type, ETag and 304, caching by whether its name is versioned", async (t) => {
  await using server = serve();
  const types = { js: "text/javascript", css: "text/css", svg: "image/svg+xml" } as const;
  for (const [name, asset] of ADMIN_ASSETS) {
    await t.step(name, async () => {
      const url = `${server.url}/admin/assets/${name}`;
      const first = await get(url);
      assert.equal(first.status, 200);
      const extension = name.split(".").at(-1) as keyof typeof types;
      assert.ok(first.headers.get("content-type")?.startsWith(types[extension]));
      assert.equal(first.headers.get("content-security-policy"), ADMIN_CSP);
      assert.equal(first.body, asset.body);
      assert.equal(
        first.headers.get("cache-control"),
        asset.immutable ? "public, max-age=31536000, immutable" : "no-cache",
      );
      const etag = first.headers.get("etag") ?? "";
      const again = await get(url, { headers: { "if-none-match": `W/"x", ${etag}` } });
      assert.equal(again.status, 304);
      assert.equal(again.body, "");
      assert.equal(again.headers.get("etag"), etag);
    });
  }
  await t.step("the vendored files carry their version in their name", () => {
    const immutable = [...ADMIN_ASSETS].filter(([, asset]) => asset.immutable);
    assert.deepEqual(immutable.map(([name]) => /^uplot-\d+\.\d+\.\d+\.min\.(js|css)$/.test(name)), [
      true,
      true,
    ]);
  });
});

Deno.test("the page answers HEAD, 405 to other methods, 404 to unknown files", async (t) => {
  await using server = serve();
  await t.step("HEAD", async () => {
    const { status, headers, body } = await get(`${server.url}/admin`, { method: "HEAD" });
    assert.equal(status, 200);
    assert.equal(body, "");
    assert.ok(Number(headers.get("content-length")) > 500);
  });
  await t.step("POST → 405 with Allow", async () => {
    const { status, headers, body } = await get(`${server.url}/admin/assets/app.js`, {
      method: "POST",
    });
    assert.equal(status, 405);
    assert.equal(headers.get("allow"), "GET, HEAD");
    assert.equal(JSON.parse(body).error.code, "method_not_allowed");
  });
  for (const path of ["/admin/assets/nope.js", "/admin/assets/", "/admin/assets/dir/app.js"]) {
    await t.step(`${path} → 404`, async () => {
      const { status, body } = await get(`${server.url}${path}`);
      assert.equal(status, 404);
      assert.equal(JSON.parse(body).error.code, "not_found");
    });
  }
});

Deno.test("without adminPage the page paths are 404", async () => {
  await using server = serve(false);
  const { status } = await get(`${server.url}/admin`);
  assert.equal(status, 404);
});
