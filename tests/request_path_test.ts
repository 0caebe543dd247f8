import assert from "node:assert/strict";
import fc from "fast-check";
import { pathOf } from "../src/routes/paths.ts";

Deno.test("pathOf() gives what the URL parser gives as the path", async (t) => {
  const cases = [
    "http://127.0.0.1:8000/v1/chat/completions",
    "http://localhost/v1/models?limit=2",
    "http://localhost/v1/models#top",
    "http://[::1]:8000/health",
    "http://localhost:8000",
    "http://localhost:8000/",
    "http://localhost/v1/./chat/../models",
    "http://localhost/v1/models/gpt%2D4o",
    "http://localhost/v1\\models",
    "http://localhost/v1/models/a.b?x=1",
    "http://localhost/v1//responses/",
    "http://a.aa#/a",
    "http://a.aa?x=/a",
  ];
  for (const url of cases) {
    await t.step(url, () => assert.equal(pathOf(url), new URL(url).pathname));
  }
  await t.step("any web URL", () => {
    fc.assert(
      fc.property(fc.webUrl({ withQueryParameters: true, withFragments: true }), (url) => {
        assert.equal(pathOf(url), new URL(url).pathname);
      }),
      { numRuns: 2_000 },
    );
  });
});
