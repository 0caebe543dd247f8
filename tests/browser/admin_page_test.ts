/**
 * The admin web page in a real browser (headless Chromium from Debian's package): sign-in with
 * the admin key, the overview plotted from known traffic, a key created on the page used through
 * the official `openai` client and refused once revoked, usage with CSV export, a failing
 * provider marked, sign-out; and screenshots of every page, light and dark, laptop and phone.
 */
import assert from "node:assert/strict";
import OpenAI from "openai";
import { startAdminGateway } from "./_admin_gateway.ts";
import { browserTestName, CHROMIUM_MISSING, launchChromium, seriesPixels } from "./_browser.ts";
import {
  clickButton,
  fill,
  keyRow,
  openPage,
  submitKey,
  tabTo,
  textOf,
  textsOf,
  valueOf,
  waitReady,
} from "./_page_steps.ts";
import { screenshotsDir, takeScreenshots } from "./_screenshots.ts";

function client(baseUrl: string, apiKey: string): OpenAI {
  return new OpenAI({ apiKey, baseURL: `${baseUrl}/v1`, maxRetries: 0 });
}

const MESSAGES = [{ role: "user" as const, content: "Hello" }];

Deno.test({
  name: browserTestName(
    "admin page: sign in, overview from known traffic, keys made and revoked, usage, providers",
  ),
  ignore: CHROMIUM_MISSING,
  async fn(t) {
    await using gateway = await startAdminGateway();
    const app = client(gateway.url, gateway.clientKey);
    // Known traffic: 3 answers of 9 + 6 tokens on gpt-4o, 2 failures on broken-only.
    for (let i = 0; i < 3; i++) {
      await app.chat.completions.create({ model: "gpt-4o", messages: MESSAGES });
    }
    for (let i = 0; i < 2; i++) {
      await assert.rejects(
        app.chat.completions.create({ model: "broken-only", messages: MESSAGES }),
      );
    }
    await recorded(gateway, 5);
    await using chromium = await launchChromium();
    const page = await chromium.newPage();
    await page.setViewport({ width: 1280, height: 800 });

    await t.step("the API refuses no key, a wrong key and a client key", async () => {
      for (
        const [token, status] of [[undefined, 401], ["sk-wrong", 401], [gateway.clientKey, 403]]
      ) {
        const response = await fetch(`${gateway.url}/admin/api/overview`, {
          headers: token === undefined ? {} : { authorization: `Bearer ${token}` },
        });
        assert.equal(response.status, status, String(token));
        await response.body?.cancel();
      }
    });

    await t.step("sign-in refuses a wrong key and a client key, plainly", async () => {
      await page.goto(`${gateway.url}/admin`);
      await submitKey(page, "sk-choreo-not-a-real-key");
      await page.waitForSelector("form.sign-in .error");
      assert.match(await textOf(page, "form.sign-in .error"), /admin key was refused \(401\)/);
      await submitKey(page, gateway.clientKey);
      await page.waitForFunction(
        '/403/.test(document.querySelector("form.sign-in .error")?.textContent ?? "")',
      );
      assert.match(await textOf(page, "form.sign-in .error"), /may not use the admin API \(403\)/);
    });

    await t.step("overview: totals and plots of the known traffic", async () => {
      await submitKey(page, gateway.adminKey);
      await waitReady(page, "overview");
      assert.equal(await textOf(page, '[data-stat="requests"]'), "5");
      assert.equal(await textOf(page, '[data-stat="errors"]'), "2");
      assert.equal(await textOf(page, '[data-stat="tokens"]'), "45");
      assert.deepEqual(await textsOf(page, "table caption"), ["Top keys", "Top models"]);
      assert.match((await textsOf(page, ".table-wrap tbody tr"))[0] ?? "", /web app/);
      // Each plot draws its series (points of equal latencies may cover each other).
      for (const [chart, series] of [["requests", 2], ["tokens", 2], ["cost", 1], ["latency", 4]]) {
        await page.waitForSelector(`[data-chart="${chart}"][data-drawn] canvas`);
        let pixels = 0;
        for (let i = 1; i <= Number(series); i++) {
          pixels += await seriesPixels(page, `[data-chart="${chart}"]`, `--chart-${i}`);
        }
        assert.ok(pixels > 0, `${chart}: its series are drawn`);
      }
    });

    await t.step(
      "keyboard: Tab to a page link and a button, Escape closes the dialog",
      async () => {
        await openPage(page, gateway.url, "overview");
        await tabTo(page, "Keys");
        await page.keyboard.press("Enter");
        await waitReady(page, "keys");
        await tabTo(page, "Create key");
        await page.keyboard.press("Enter");
        await page.waitForSelector("dialog[open]");
        assert.equal(await page.evaluate("document.activeElement?.name"), "name");
        await page.keyboard.press("Escape");
        await page.waitForSelector("dialog", { hidden: true });
      },
    );

    await t.step("keys: create, use through the openai client, revoke, refused", async () => {
      await openPage(page, gateway.url, "keys");
      assert.deepEqual(
        (await textsOf(page, ".table-wrap tbody tr td:first-child")).map((name) =>
          name.split("key_")[0]
        ),
        ["ops admin", "web app"],
      );
      await clickButton(page, "main", "Create key");
      await page.waitForSelector("dialog[open] input[name=name]");
      await page.type("dialog[open] input[name=name]", "browser test key");
      await clickButton(page, "dialog[open]", "Create key");
      await page.waitForSelector("dialog[open] input[data-secret]");
      const secret = await valueOf(page, "dialog[open] input[data-secret]");
      assert.match(secret, /^sk-choreo-/);
      const created = client(gateway.url, secret);
      const answer = await created.chat.completions.create({ model: "gpt-4o", messages: MESSAGES });
      assert.equal(answer.choices[0]?.message.content, "Hello from the fake upstream");
      await clickButton(page, "dialog[open]", "Done");
      await waitReady(page, "keys");
      const id = await page.$$eval(
        "tbody tr",
        (rows) =>
          rows.find((row) => row.textContent?.includes("browser test key"))
            ?.getAttribute("data-key-id"),
      );
      assert.ok(id);
      await page.click(`tr[data-key-id="${id}"] button.danger`);
      await clickButton(page, "dialog[open]", "Revoke key");
      await page.waitForSelector(`tr[data-key-id="${id}"][data-status="revoked"]`);
      await assert.rejects(
        created.chat.completions.create({ model: "gpt-4o", messages: MESSAGES }),
        (error) => error instanceof OpenAI.AuthenticationError,
      );
    });

    await t.step(
      "keys: rotate with a grace period, then a new limit and budget",
      async () => {
        await clickButton(page, "main", "Create key");
        await page.waitForSelector("dialog[open] input[name=name]");
        await page.type("dialog[open] input[name=name]", "rotating key");
        await clickButton(page, "dialog[open]", "Create key");
        await page.waitForSelector("dialog[open] input[data-secret]");
        const before = await valueOf(page, "dialog[open] input[data-secret]");
        await clickButton(page, "dialog[open]", "Done");
        await waitReady(page, "keys");
        const oldId = await keyRow(page, "rotating key");
        await page.click(`tr[data-key-id="${oldId}"] button[aria-label^="Rotate"]`);
        await page.select("dialog[open] select[name=grace]", "1h");
        await clickButton(page, "dialog[open]", "Rotate key");
        await page.waitForSelector("dialog[open] input[data-secret]");
        const after = await valueOf(page, "dialog[open] input[data-secret]");
        assert.notEqual(after, before);
        for (const key of [before, after]) {
          await client(gateway.url, key).chat.completions.create({
            model: "gpt-4o",
            messages: MESSAGES,
          });
        }
        await clickButton(page, "dialog[open]", "Done");
        await page.waitForSelector(`tr[data-key-id="${oldId}"][data-status="rotating"]`);
        const newId = await keyRow(page, "rotating key");
        await page.click(`tr[data-key-id="${newId}"] button[aria-label^="Edit"]`);
        await fill(page, "dialog[open] input[name=rpm]", "1");
        await fill(page, "dialog[open] input[name=budget_usd]", "2");
        await page.select("dialog[open] select[name=budget_period]", "day");
        await clickButton(page, "dialog[open]", "Save");
        await page.waitForSelector("dialog", { hidden: true });
        await waitReady(page, "keys");
        assert.match(await textOf(page, `tr[data-key-id="${newId}"]`), /of \$2\.00 this day/);
        // The new limit of 1 request a minute: the first passes, the next is refused.
        const limited = client(gateway.url, after);
        await limited.chat.completions.create({ model: "gpt-4o", messages: MESSAGES });
        await assert.rejects(
          limited.chat.completions.create({ model: "gpt-4o", messages: MESSAGES }),
          (error) => error instanceof OpenAI.RateLimitError,
        );
      },
    );

    await t.step("usage: plots, table and a CSV export that sends the key", async () => {
      await openPage(page, gateway.url, "usage?period=day&by=model");
      const rows = await textsOf(page, ".table-wrap tbody tr td:first-child");
      assert.deepEqual(rows.sort(), ["broken-only", "gpt-4o"]);
      await page.waitForSelector('[data-chart="usage-requests"][data-drawn] canvas');
      assert.ok(await seriesPixels(page, '[data-chart="usage-requests"]', "--chart-1") > 0);
      const downloads = await Deno.makeTempDir({ prefix: "choreoai-downloads-" });
      try {
        const session = await page.createCDPSession();
        await session.send("Browser.setDownloadBehavior", {
          behavior: "allow",
          downloadPath: downloads,
        });
        await clickButton(page, "main", "Export CSV");
        const file = `${downloads}/choreoai-usage-day-model.csv`;
        await waitForFile(file);
        const csv = await Deno.readTextFile(file);
        assert.match(csv.split("\n")[0] ?? "", /^model,requests,errors/);
        assert.match(csv, /\ngpt-4o,\d+,\d+,/);
      } finally {
        await Deno.remove(downloads, { recursive: true });
      }
    });

    await t.step("providers: the failing target is marked", async () => {
      await openPage(page, gateway.url, "providers");
      const failing = await page.$$eval(
        'tr[data-health="failing"]',
        (rows) => rows.map((row) => row.getAttribute("data-target")),
      );
      assert.deepEqual(failing, ["broken/m1"]);
      assert.match(await textOf(page, "main p[role=alert]"), /1 of 2 targets failing/);
    });

    const shots = await screenshotsDir();
    await t.step(
      `screenshots of every page, light and dark, laptop and phone: ${shots}`,
      async () => {
        const files = await takeScreenshots(page, gateway.url, shots);
        assert.equal(files.length, 16);
      },
    );

    await t.step("sign out forgets the key", async () => {
      await openPage(page, gateway.url, "overview");
      await page.click("button.sign-out");
      await page.waitForSelector("form.sign-in");
      assert.equal(await page.evaluate("sessionStorage.length"), 0);
      assert.match(await textOf(page, "form.sign-in [role=alert]"), /Signed out/);
    });

    assert.deepEqual(chromium.problems, [], "no console errors, page errors or CSP violations");
  },
});

/** Waits until the admin API counts `requests` requests in the last hour (records are batched). */
async function recorded(gateway: { url: string; adminKey: string }, requests: number) {
  const deadline = Date.now() + 5_000;
  while (true) {
    const response = await fetch(`${gateway.url}/admin/api/overview?period=hour`, {
      headers: { authorization: `Bearer ${gateway.adminKey}` },
    });
    const { totals } = await response.json();
    if (totals.requests === requests) return;
    if (Date.now() > deadline) {
      throw new Error(`${totals.requests} requests recorded, not ${requests}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function waitForFile(path: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    try {
      if ((await Deno.stat(path)).size > 0) return;
    } catch {
      // not there yet
    }
    if (Date.now() > deadline) throw new Error(`No download at ${path}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
