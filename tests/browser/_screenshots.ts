/**
 * Screenshots of every admin page, light and dark, at laptop and phone widths, into a directory:
 * a new temporary one, or CHOREOAI_SCREENSHOTS_DIR when set (`deno task screenshots:admin` sets
 * docs/admin, the README's pictures).
 */
import type { Page } from "puppeteer-core";
import { openPage } from "./_page_steps.ts";

const PAGES = ["overview", "keys", "usage", "providers"];
const SCHEMES = ["light", "dark"] as const;
const DEVICES = { laptop: { width: 1280, height: 800 }, phone: { width: 390, height: 844 } };

/** Where the screenshots go (see above). */
export async function screenshotsDir(): Promise<string> {
  return Deno.env.get("CHOREOAI_SCREENSHOTS_DIR") ??
    await Deno.makeTempDir({ prefix: "choreoai-admin-screenshots-" });
}

/** Takes the screenshots with `page` (signed in) into `dir`; returns their paths. */
export async function takeScreenshots(page: Page, baseUrl: string, dir: string): Promise<string[]> {
  const files: string[] = [];
  for (const scheme of SCHEMES) {
    await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: scheme }]);
    for (const [device, viewport] of Object.entries(DEVICES)) {
      await page.setViewport({ ...viewport, deviceScaleFactor: 1 });
      for (const name of PAGES) {
        await openPage(page, baseUrl, name);
        await page.waitForFunction(
          '[...document.querySelectorAll("[data-chart]")].every((c) => c.hasAttribute("data-drawn"))',
        );
        const path = `${dir}/${name}-${scheme}-${device}.png` as const;
        await page.screenshot({ path });
        files.push(path);
      }
    }
  }
  await page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: "light" }]);
  await page.setViewport(DEVICES.laptop);
  return files;
}
