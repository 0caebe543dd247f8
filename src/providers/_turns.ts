/** Turn handling shared by the providers that require alternating roles (Anthropic, Gemini). */

/**
 * Merges consecutive turns of one role into one, keeping their items in order, then puts the
 * tool results of each merged user turn first, as both APIs expect results right after the
 * calls they answer. Pure: the turns given are not changed.
 */
export function mergeTurns<R extends string, I>(
  turns: readonly { readonly role: R; readonly items: readonly I[] }[],
  userRole: R,
  isToolResult: (item: I) => boolean,
): { role: R; items: I[] }[] {
  const merged: { role: R; items: I[] }[] = [];
  for (const turn of turns) {
    const last = merged.at(-1);
    if (last !== undefined && last.role === turn.role) last.items.push(...turn.items);
    else merged.push({ role: turn.role, items: [...turn.items] });
  }
  for (const turn of merged) {
    if (turn.role !== userRole) continue;
    turn.items = [
      ...turn.items.filter(isToolResult),
      ...turn.items.filter((item) => !isToolResult(item)),
    ];
  }
  return merged;
}
