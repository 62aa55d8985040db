/** A parsed Prometheus text exposition (format 0.0.4), strict enough to catch a malformed scrape. */
export interface MetricFamily {
  name: string;
  type: string;
  help: string;
  samples: { name: string; labels: Record<string, string>; value: number }[];
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})?\s+(\S+)(\s+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;
const SUFFIXES: Record<string, string[]> = { histogram: ["_bucket", "_sum", "_count"], summary: ["", "_sum", "_count"] };

/** As Prometheus reads values (Go's ParseFloat): Inf and NaN in any letter case; prom-client writes "Nan". */
function parseValue(text: string): number {
  const lower = text.toLowerCase();
  if (lower === "+inf" || lower === "inf") return Infinity;
  if (lower === "-inf") return -Infinity;
  if (lower === "nan") return NaN;
  const value = Number(text);
  if (Number.isNaN(value)) throw new Error(`not a number: ${text}`);
  return value;
}

function parseLabels(text: string | undefined, line: string): Record<string, string> {
  const labels: Record<string, string> = {};
  if (!text) return labels;
  LABEL.lastIndex = 0;
  let consumed = 0;
  for (let match = LABEL.exec(text); match; match = LABEL.exec(text)) {
    labels[match[1]!] = match[2]!.replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
    consumed = LABEL.lastIndex;
  }
  if (consumed !== text.length) throw new Error(`malformed labels in: ${line}`);
  return labels;
}

/** Throws on any line that is not a HELP/TYPE comment or a sample of a declared family; checks histogram buckets. */
export function parsePrometheusText(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const familyOfSample = (sample: string): MetricFamily | undefined => {
    for (const family of families.values()) {
      const suffixes = SUFFIXES[family.type] ?? [""];
      if (suffixes.some((suffix) => `${family.name}${suffix}` === sample)) return family;
    }
    return undefined;
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("# HELP ")) {
      const [, name, help = ""] = /^# HELP (\S+) ?(.*)$/.exec(line) ?? [];
      if (!name) throw new Error(`malformed HELP: ${line}`);
      const family = families.get(name) ?? { name, type: "untyped", help: "", samples: [] };
      family.help = help;
      families.set(name, family);
      continue;
    }
    if (line.startsWith("# TYPE ")) {
      const [, name, type] = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line) ?? [];
      if (!name || !type) throw new Error(`malformed TYPE: ${line}`);
      const family = families.get(name) ?? { name, type, help: "", samples: [] };
      family.type = type;
      families.set(name, family);
      continue;
    }
    if (line.startsWith("#")) continue;
    const match = SAMPLE.exec(line);
    if (!match) throw new Error(`malformed sample: ${line}`);
    const family = familyOfSample(match[1]!);
    if (!family) throw new Error(`sample of an undeclared family: ${line}`);
    family.samples.push({ name: match[1]!, labels: parseLabels(match[3], line), value: parseValue(match[4]!) });
  }
  for (const family of families.values()) {
    if (family.type !== "histogram") continue;
    const series = new Map<string, { le: number; value: number }[]>();
    for (const sample of family.samples.filter((s) => s.name.endsWith("_bucket"))) {
      const { le, ...rest } = sample.labels;
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      const key = JSON.stringify(rest);
      series.set(key, [...(series.get(key) ?? []), { le: parseValue(le), value: sample.value }]);
    }
    for (const [key, buckets] of series) {
      for (let i = 1; i < buckets.length; i++) {
        if (buckets[i]!.le <= buckets[i - 1]!.le || buckets[i]!.value < buckets[i - 1]!.value) throw new Error(`${family.name}${key}: buckets not cumulative`);
      }
      const count = family.samples.find((s) => s.name === `${family.name}_count` && JSON.stringify(s.labels) === key)?.value;
      if (buckets[buckets.length - 1]?.le !== Infinity || buckets[buckets.length - 1]?.value !== count) throw new Error(`${family.name}${key}: +Inf bucket differs from _count`);
    }
  }
  return families;
}

/** The value of one sample (0 when the series does not exist yet, as Prometheus treats a missing counter). */
export function sampleValue(families: Map<string, MetricFamily>, family: string, sample: string, labels: Record<string, string> = {}): number {
  const found = families.get(family)?.samples.find((s) => s.name === sample && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return found?.value ?? 0;
}
