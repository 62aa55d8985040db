/**
 * The names the model sees. Providers accept `^[a-zA-Z0-9_-]{1,64}$` for tool names, and two servers may both
 * offer a `search`; so a tool is shown under its own name when that is unique among the agent's tools, and as
 * `<server>__<tool>` when it is not. The mapping must be deterministic: a resumed run rebuilds it from the same
 * grants and must get the same names, or the model's earlier tool calls would point at nothing.
 */
const MAX_LENGTH = 64;

function sanitise(name: string): string {
  const cleaned = name.replace(/[^A-Za-z0-9_-]/g, "_");
  return cleaned.length > 0 ? cleaned : "tool";
}

export function assignModelNames(tools: readonly { serverName: string; name: string }[]): string[] {
  const base = tools.map((tool) => sanitise(tool.name).slice(0, MAX_LENGTH));
  const counts = new Map<string, number>();
  for (const name of base) counts.set(name, (counts.get(name) ?? 0) + 1);
  const qualified = tools.map((tool, i) => {
    const own = base[i] ?? "tool";
    if ((counts.get(own) ?? 0) === 1) return own;
    return `${sanitise(tool.serverName)}__${sanitise(tool.name)}`.slice(0, MAX_LENGTH);
  });
  // Sanitising or cutting can still collide ("a.b" and "a_b" on one server): number the later ones.
  const taken = new Set<string>();
  return qualified.map((name) => {
    let candidate = name;
    for (let n = 2; taken.has(candidate); n += 1) {
      const suffix = `_${n}`;
      candidate = name.slice(0, MAX_LENGTH - suffix.length) + suffix;
    }
    taken.add(candidate);
    return candidate;
  });
}
