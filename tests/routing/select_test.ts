import assert from "node:assert/strict";
import fc from "fast-check";
import { parseConfig } from "../../src/config.ts";
import { buildRouting } from "../../src/routing/load.ts";
import { parseRoutingFile } from "../../src/routing/routing_file.ts";
import { pickTarget } from "../../src/routing/select.ts";
import type { RouteTarget } from "../../src/routing/table.ts";

/** The targets of a public model with these weights, on OpenAI models m0, m1, … */
function targets(weights: readonly number[]): readonly RouteTarget[] {
  const routing = buildRouting(
    parseConfig({ OPENAI_API_KEY: "sk" }),
    parseRoutingFile(JSON.stringify({
      models: {
        m: {
          targets: weights.map((weight, i) => ({ provider: "openai", model: `m${i}`, weight })),
        },
      },
    })),
  );
  return routing.models.get("m")?.targets ?? assert.fail("model m expected");
}

const NONE = () => false;
const NEVER_CALLED = () => assert.fail("random should not be needed");

/** How many of `count` evenly spaced values in [0, 1) pick each target. */
function tally(
  list: readonly RouteTarget[],
  excluded: (target: RouteTarget) => boolean = NONE,
  count = 1000,
): Record<string, number> {
  const picks: Record<string, number> = {};
  for (let i = 0; i < count; i++) {
    const picked = pickTarget(list, excluded, () => i / count);
    assert.ok(picked !== undefined);
    picks[picked.model] = (picks[picked.model] ?? 0) + 1;
  }
  return picks;
}

Deno.test("pickTarget() respects weights", async (t) => {
  const cases: [number[], Record<string, number>][] = [
    [[3, 1], { m0: 750, m1: 250 }],
    [[1, 3], { m0: 250, m1: 750 }],
    [[1, 1], { m0: 500, m1: 500 }],
    [[1, 1, 2], { m0: 250, m1: 250, m2: 500 }],
    [[0.5, 1.5], { m0: 250, m1: 750 }],
    [[1, 4], { m0: 200, m1: 800 }],
  ];
  for (const [weights, expected] of cases) {
    await t.step(weights.join(":"), () => {
      assert.deepEqual(tally(targets(weights)), expected);
    });
  }
  await t.step("the ends of [0, 1) pick the first and the last", () => {
    const list = targets([3, 1]);
    assert.equal(pickTarget(list, NONE, () => 0)?.model, "m0");
    assert.equal(pickTarget(list, NONE, () => 1 - Number.EPSILON)?.model, "m1");
  });
});

Deno.test("pickTarget() leaves out excluded targets", async (t) => {
  const list = targets([3, 1, 4]);
  await t.step("the others share the picks by weight", () => {
    assert.deepEqual(tally(list, (target) => target.model === "m2"), { m0: 750, m1: 250 });
    assert.deepEqual(tally(list, (target) => target.model === "m0"), { m1: 200, m2: 800 });
  });
  await t.step("one left: it is picked without drawing", () => {
    const picked = pickTarget(list, (target) => target.model !== "m1", NEVER_CALLED);
    assert.equal(picked?.model, "m1");
  });
  await t.step("all excluded: undefined", () => {
    assert.equal(pickTarget(list, () => true, NEVER_CALLED), undefined);
  });
  await t.step("the exclusion sees each target", () => {
    const seen: string[] = [];
    pickTarget(list, (target) => {
      seen.push(target.key);
      return false;
    }, () => 0.5);
    assert.deepEqual(seen, ["openai/m0", "openai/m1", "openai/m2"]);
  });
});

Deno.test("pickTarget() with a single candidate or none", async (t) => {
  await t.step("a single target is picked whatever its weight", () => {
    const list = targets([0.001]);
    assert.equal(pickTarget(list, NONE, NEVER_CALLED), list[0]);
  });
  await t.step("no targets: undefined", () => {
    assert.equal(pickTarget([], NONE, NEVER_CALLED), undefined);
  });
});

Deno.test("pickTarget() always picks a target that is not excluded", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          weight: fc.double({ min: 0.001, max: 1000, noNaN: true }),
          excluded: fc.boolean(),
        }),
        { minLength: 1, maxLength: 6 },
      ),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (specs, draw) => {
        const list = targets(specs.map((s) => s.weight));
        const isExcluded = (target: RouteTarget) => specs[list.indexOf(target)]?.excluded === true;
        const picked = pickTarget(list, isExcluded, () => draw);
        if (specs.every((s) => s.excluded)) assert.equal(picked, undefined);
        else {
          assert.ok(picked !== undefined);
          assert.equal(isExcluded(picked), false);
        }
      },
    ),
    { numRuns: 300 },
  );
});
