/** Weighted choice of a target among those that may be tried. Pure (randomness is passed in). */
import type { RouteTarget } from "./table.ts";

/**
 * Picks a target by weight among `targets`, leaving out those `excluded` says no to. `random`
 * returns a number in [0, 1). Undefined when none is left.
 */
export function pickTarget(
  targets: readonly RouteTarget[],
  excluded: (target: RouteTarget) => boolean,
  random: () => number,
): RouteTarget | undefined {
  const candidates = targets.filter((target) => !excluded(target));
  if (candidates.length <= 1) return candidates[0];
  const total = candidates.reduce((sum, target) => sum + target.weight, 0);
  let point = random() * total;
  for (const target of candidates) {
    point -= target.weight;
    if (point < 0) return target;
  }
  return candidates[candidates.length - 1];
}
