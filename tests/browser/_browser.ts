/**
 * Headless Chromium for the browser tests: Debian's `chromium` package (never a downloaded
 * browser) driven by `puppeteer-core`, with a fresh profile in a temporary directory. Tests are
 * reported as ignored, with "SKIPPED: chromium not installed" in their name, when it is missing.
 */
import puppeteer, { type Browser, type Page } from "puppeteer-core";

/** Where Debian's package installs the browser. */
export const CHROMIUM_PATH = "/usr/bin/chromium";

function installed(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** Whether the browser tests cannot run here. */
export const CHROMIUM_MISSING = !installed(CHROMIUM_PATH);

/** A browser test's name, saying plainly when it is skipped. */
export function browserTestName(name: string): string {
  return CHROMIUM_MISSING ? `${name} (SKIPPED: chromium not installed)` : name;
}

/** The launch flags: headless, no sandbox (CI runs as root), nothing that calls out. */
export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

const EXPECTED_REFUSAL_REGEXP = /^Failed to load resource: .* status of 40[13] /;

/** A running browser; disposing closes it and removes its profile. */
export interface TestBrowser extends AsyncDisposable {
  readonly browser: Browser;
  /** A new tab that records console errors, page errors and CSP violations in `problems`. */
  newPage(): Promise<Page>;
  readonly problems: string[];
}

/** Launches Chromium with a fresh profile. */
export async function launchChromium(): Promise<TestBrowser> {
  const profile = await Deno.makeTempDir({ prefix: "choreoai-chromium-" });
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      executablePath: CHROMIUM_PATH,
      headless: false, // `--headless` is in the flags, as given
      userDataDir: profile,
      args: CHROMIUM_ARGS,
    });
  } catch (error) {
    await Deno.remove(profile, { recursive: true });
    throw error;
  }
  const problems: string[] = [];
  return {
    browser,
    problems,
    async newPage() {
      const page = await browser.newPage();
      page.on("console", (message) => {
        // The browser logs every refused API call; the tests make some on purpose.
        const text = message.text();
        if (message.type() === "error" && !EXPECTED_REFUSAL_REGEXP.test(text)) {
          problems.push(`console: ${text}`);
        }
      });
      page.on("pageerror", (error) => problems.push(`page error: ${error}`));
      return page;
    },
    async [Symbol.asyncDispose]() {
      await browser.close();
      await Deno.remove(profile, { recursive: true });
    },
  };
}

/** Runs in the page: counts pixels of canvas near the colour of CSS variable `variable`. */
const SERIES_PIXELS = `(selector, variable) => {
  const canvas = document.querySelector(selector)?.querySelector("canvas");
  if (!canvas) return 0;
  const probe = document.createElement("div");
  probe.style.color = getComputedStyle(document.documentElement).getPropertyValue(variable);
  document.body.append(probe);
  const [r, g, b] = (getComputedStyle(probe).color.match(/\\d+/g) ?? []).map(Number);
  probe.remove();
  const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
  let count = 0;
  for (let i = 0; i < data.length; i += 4) {
    const near = Math.abs(data[i] - r) + Math.abs(data[i + 1] - g) + Math.abs(data[i + 2] - b);
    if (data[i + 3] > 200 && near < 40) count += 1;
  }
  return count;
}`;

/**
 * How many pixels of the plot in `selector` are drawn in (about) the colour of CSS variable
 * `variable` (`--chart-1`…): a plotted series, not just axes.
 */
export async function seriesPixels(
  page: Page,
  selector: string,
  variable: string,
): Promise<number> {
  const args = [selector, variable].map((arg) => JSON.stringify(arg)).join(", ");
  return await page.evaluate(`(${SERIES_PIXELS})(${args})`) as number;
}
