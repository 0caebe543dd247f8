/** Steps the browser tests take on the admin page: sign in, open a page, read it. */
import type { Page } from "puppeteer-core";

/** Opens `/admin#/<route>` and waits until the page has rendered its data. */
export async function openPage(page: Page, baseUrl: string, route: string): Promise<void> {
  await page.goto(`${baseUrl}/admin#/${route}`);
  await waitReady(page, route.split("?")[0] ?? route);
}

/** Waits until page `name` has rendered its data (`data-ready`). */
export async function waitReady(page: Page, name: string): Promise<void> {
  await page.waitForSelector(`[data-page="${name}"][data-ready]`, { timeout: 10_000 });
}

/** Types `key` into the sign-in form and submits it. */
export async function submitKey(page: Page, key: string): Promise<void> {
  await page.waitForSelector("#admin-key");
  await page.$eval("#admin-key", (input) => ((input as unknown as { value: string }).value = ""));
  await page.type("#admin-key", key);
  await page.click("form.sign-in button[type=submit]");
}

/** The text of the first element matching `selector`. */
export function textOf(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (element) => element.textContent?.trim() ?? "");
}

/** The texts of every element matching `selector`. */
export function textsOf(page: Page, selector: string): Promise<string[]> {
  return page.$$eval(selector, (elements) => elements.map((e) => e.textContent?.trim() ?? ""));
}

/** The value of the input matching `selector`. */
export function valueOf(page: Page, selector: string): Promise<string> {
  return page.$eval(selector, (input) => (input as unknown as { value: string }).value);
}

/** Clicks the button whose text is `text` inside `scope` (a selector). */
export async function clickButton(page: Page, scope: string, text: string): Promise<void> {
  const buttons = await page.$$(`${scope} button`);
  for (const button of buttons) {
    const label = await button.evaluate((element) => element.textContent?.trim());
    if (label === text) return await button.click();
  }
  throw new Error(`No button "${text}" in ${scope}`);
}

/** Presses Tab until the focused element's text is `text` (at most `limit` times). */
export async function tabTo(page: Page, text: string, limit = 20): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const focused = await page.evaluate("document.activeElement?.textContent?.trim()");
    if (focused === text) return;
  }
  throw new Error(`Tab never reached "${text}"`);
}

/** Replaces the value of the input matching `selector` with `text`, typed. */
export async function fill(page: Page, selector: string, text: string): Promise<void> {
  await page.$eval(selector, (input) => ((input as unknown as { value: string }).value = ""));
  await page.type(selector, text);
}

/** The `data-key-id` of the Keys table's row named `name` with status `status`. */
export async function keyRow(page: Page, name: string, status = "active"): Promise<string> {
  const id = await page.$$eval(
    `.table-wrap tbody tr[data-status="${status}"]`,
    (rows, wanted) =>
      rows.find((row) => row.querySelector("td")?.firstChild?.textContent === wanted)
        ?.getAttribute("data-key-id"),
    name,
  );
  if (typeof id !== "string") throw new Error(`No ${status} key named "${name}"`);
  return id;
}
