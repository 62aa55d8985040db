import type { DbOrTx } from "@/server/db";
import { logger } from "@/server/logger";
import { sqlFor } from "@/server/sql";
import { InvalidInput, NotFound } from "../errors";
import { settingsFrom, type GovernanceSettings } from "../governance/settings";
import { decryptSecret } from "../secrets/crypto";

/** The guards' entry point for the runtime: redaction (here) and untrusted-data marking (untrusted.ts). */
export { wrapUntrusted, UNTRUSTED_NOTICE } from "./untrusted";

/**
 * Redaction guard: removes secrets and configured patterns from text before it reaches a model, a trace or a log.
 *
 * What must stay true:
 * - No part of a matched span survives. Every rule finds its matches in the *original* text; overlapping matches
 *   (a stored secret inside an email, a custom pattern over half an API key) are merged into one span, labelled
 *   with the highest-priority kind: secret > api_key > card > email > custom patterns (in their listed order).
 *   Because no rule ever sees another rule's `[REDACTED:…]` marker, a custom pattern cannot mangle a marker.
 * - A pattern that matches the empty string never loops and never produces a marker.
 * - `createRedactor` is pure; only `loadRedactor` touches the database (and the encryption key).
 *
 * Choices, to keep false positives low (a guard that shreds order ids and hashes makes traces useless):
 * - Stored secrets are matched exactly (also in their JSON-escaped and whitespace-trimmed forms). Values shorter
 *   than 6 characters are ignored: “admin” or “1234” would redact ordinary words and numbers everywhere.
 * - API keys are recognised by their vendors' prefixes only (below). Generic “long high-entropy strings” are NOT
 *   redacted: ids, SHA-256 hashes and cuids look exactly like that.
 * - Card numbers: 13–19 digits, optionally grouped by single spaces or dashes, passing the Luhn check and starting
 *   with 2–6 (the ranges card networks issue from). The leading digit rule keeps millisecond timestamps (13 digits
 *   starting with 1) from being redacted one time in ten. Groups are tried as windows, so two cards separated by a
 *   space are found, while a digit run that is longer than a card (an id) is left alone.
 */

export interface Redaction {
  /** "secret" | "api_key" | "email" | "card" | the name of a custom pattern. */
  kind: string;
  count: number;
}

export interface Redactor {
  redactText(text: string): { text: string; redactions: Redaction[] };
  /**
   * Redacts every string inside a JSON value (objects and arrays, at any depth); keys are left untouched. A number
   * whose digits would be redacted as text (a card number, a numeric secret) becomes the marker string.
   */
  redactJson<T>(value: T): { value: T; redactions: Redaction[] };
}

export type RedactionSettings = GovernanceSettings["redaction"];

export const MIN_SECRET_LENGTH = 6;

export function redactionMarker(kind: string): string {
  return `[REDACTED:${kind}]`;
}

/** One match of one rule, as a half-open range of the original text. Lower priority number wins. */
interface Span {
  start: number;
  end: number;
  kind: string;
  priority: number;
}

interface Rule {
  kind: string;
  find(text: string): Array<[start: number, end: number]>;
}

/**
 * Vendor-prefixed credentials. Each regex is global; boundaries are lookarounds so the marker replaces exactly the
 * credential (for `Bearer <token>` only the token, so the text still says what it was). Each comes with a test for a
 * literal every match contains: most text contains none, and a literal search is far cheaper than the regex.
 */
const API_KEY_PATTERNS: readonly { pattern: RegExp; mayMatch: (text: string) => boolean }[] = [
  // Switchboard API keys: sb_ followed by the key body (sb_live_…, sb_test_… included).
  { pattern: /(?<![A-Za-z0-9_])sb_[A-Za-z0-9_-]{16,}/g, mayMatch: (text) => text.includes("sb_") },
  // OpenAI (sk-…, sk-proj-…) and Anthropic (sk-ant-…).
  { pattern: /(?<![A-Za-z0-9])sk-[A-Za-z0-9_-]{20,}/g, mayMatch: (text) => text.includes("sk-") },
  // Stripe secret and restricted keys.
  { pattern: /(?<![A-Za-z0-9])[sr]k_(?:live|test)_[A-Za-z0-9]{16,}/g, mayMatch: (text) => text.includes("k_") },
  // GitHub tokens: personal (ghp_), OAuth (gho_), user/server/refresh (ghu_, ghs_, ghr_), fine-grained PATs.
  { pattern: /(?<![A-Za-z0-9])gh[pousr]_[A-Za-z0-9]{30,}/g, mayMatch: (text) => text.includes("gh") },
  { pattern: /(?<![A-Za-z0-9])github_pat_[A-Za-z0-9_]{22,}/g, mayMatch: (text) => text.includes("github_pat_") },
  // Slack tokens (bot, user, app, refresh, config).
  { pattern: /(?<![A-Za-z0-9])xox[abprs]-[A-Za-z0-9-]{10,}/g, mayMatch: (text) => text.includes("xox") },
  // AWS access key ids (long-term AKIA, temporary ASIA).
  { pattern: /(?<![A-Za-z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Za-z0-9])/g, mayMatch: (text) => text.includes("IA") },
  // Google API keys.
  { pattern: /(?<![A-Za-z0-9])AIza[0-9A-Za-z_-]{35}(?![A-Za-z0-9_-])/g, mayMatch: (text) => text.includes("AIza") },
  // JSON Web Tokens (three base64url parts, the first two JSON objects: “eyJ”).
  {
    pattern: /(?<![A-Za-z0-9_-])eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/g,
    mayMatch: (text) => text.includes("eyJ"),
  },
  // The token of an HTTP bearer credential; at least 16 characters so prose (“a Bearer token”) is left alone.
  { pattern: /(?<=\bBearer\s{1,10})[A-Za-z0-9._~+/-]{16,}=*/gi, mayMatch: (text) => /bearer/i.test(text) },
  // PEM private keys, whole block.
  {
    pattern: /-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----[\s\S]*?-----END [A-Z ]{0,40}PRIVATE KEY-----/g,
    mayMatch: (text) => text.includes("-----BEGIN "),
  },
];

const EMAIL_PATTERN =
  /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,}(?![A-Za-z0-9-])/g;

/**
 * Runs of digit groups separated by one space or dash, not glued to letters, underscores or dashes (so the digit
 * parts of a UUID or a hex hash never form a run). Cards are searched for inside these runs.
 */
const DIGIT_RUN = /(?<![\w-])\d+(?:[ -]\d+)*(?![\w-])/g;
const DIGIT_GROUP = /\d+/g;

/** The global form of each pattern findAll was given, compiled once. */
const globalForms = new WeakMap<RegExp, RegExp>();

/** Every non-empty match of a global regex, safe for patterns that can match the empty string. */
export function findAll(pattern: RegExp, text: string): Array<[number, number]> {
  let regex = globalForms.get(pattern);
  if (!regex) {
    // A copy, so no caller's lastIndex is ever moved; reused, since the scan below runs to the end synchronously.
    regex = new RegExp(pattern.source, pattern.flags.includes("g") ? pattern.flags : pattern.flags + "g");
    globalForms.set(pattern, regex);
  }
  regex.lastIndex = 0;
  const out: Array<[number, number]> = [];
  let match: RegExpExecArray | null;
  while ((match = regex.exec(text)) !== null) {
    if (match[0].length === 0) {
      // An empty match: nothing to redact; step past it (by a whole code point) so the loop always advances.
      const code = text.codePointAt(regex.lastIndex);
      regex.lastIndex += code !== undefined && code > 0xffff ? 2 : 1;
      if (regex.lastIndex > text.length) break;
      continue;
    }
    out.push([match.index, match.index + match[0].length]);
  }
  return out;
}

export function passesLuhn(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i -= 1) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return digits.length > 0 && sum % 10 === 0;
}

function looksLikeCard(digits: string): boolean {
  return digits.length >= 13 && digits.length <= 19 && /^[2-6]/.test(digits) && passesLuhn(digits);
}

/** Cards inside one run of digit groups: the longest window of whole groups that is a card, left to right. */
function findCards(text: string): Array<[number, number]> {
  const out: Array<[number, number]> = [];
  for (const [runStart, runEnd] of findAll(DIGIT_RUN, text)) {
    const groups = findAll(DIGIT_GROUP, text.slice(runStart, runEnd)).map(([s, e]) => ({
      start: runStart + s,
      end: runStart + e,
      digits: text.slice(runStart + s, runStart + e),
    }));
    let i = 0;
    while (i < groups.length) {
      let digits = "";
      let best = -1;
      for (let j = i; j < groups.length; j += 1) {
        digits += groups[j]!.digits;
        if (digits.length > 19) break;
        if (looksLikeCard(digits)) best = j;
      }
      if (best >= 0) {
        out.push([groups[i]!.start, groups[best]!.end]);
        i = best + 1;
      } else {
        i += 1;
      }
    }
  }
  return out;
}

/** Occurrences of each value, longest value first; overlaps are merged later anyway. */
function findSecrets(values: readonly string[]): Rule["find"] {
  return (text) => {
    const out: Array<[number, number]> = [];
    for (const value of values) {
      let from = 0;
      for (;;) {
        const at = text.indexOf(value, from);
        if (at < 0) break;
        out.push([at, at + value.length]);
        from = at + value.length;
      }
    }
    return out;
  };
}

/** The forms a stored value may take in tool output: as is, trimmed, and escaped inside a JSON string. */
function secretVariants(secretValues: readonly string[]): string[] {
  const variants = new Set<string>();
  for (const raw of secretValues) {
    for (const value of [raw, raw.trim()]) {
      if (value.length < MIN_SECRET_LENGTH) continue;
      variants.add(value);
      const escaped = JSON.stringify(value).slice(1, -1);
      if (escaped !== value) variants.add(escaped);
    }
  }
  return [...variants].sort((a, b) => b.length - a.length || (a < b ? -1 : a > b ? 1 : 0));
}

function compileCustomPattern(pattern: { name: string; regex: string }): RegExp {
  try {
    return new RegExp(pattern.regex, "g");
  } catch {
    // Settings are validated when saved; failing closed here beats silently not redacting.
    throw new InvalidInput(`The redaction pattern “${pattern.name}” is not a valid regular expression.`);
  }
}

/** Merges overlapping spans (and touching spans of the same kind); the merged span takes the best kind. */
function mergeSpans(spans: Span[]): Span[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start || b.end - a.end || a.priority - b.priority);
  const merged: Span[] = [];
  for (const span of sorted) {
    const last = merged[merged.length - 1];
    if (last && (span.start < last.end || (span.start === last.end && span.kind === last.kind))) {
      last.end = Math.max(last.end, span.end);
      if (span.priority < last.priority) {
        last.priority = span.priority;
        last.kind = span.kind;
      }
    } else {
      merged.push({ ...span });
    }
  }
  return merged;
}

function addCounts(into: Map<string, number>, redactions: readonly Redaction[]): void {
  for (const { kind, count } of redactions) into.set(kind, (into.get(kind) ?? 0) + count);
}

export function createRedactor(settings: RedactionSettings, secretValues: string[]): Redactor {
  const rules: Rule[] = [];
  if (settings.secrets) {
    const values = secretVariants(secretValues);
    if (values.length > 0) rules.push({ kind: "secret", find: findSecrets(values) });
  }
  if (settings.apiKeys) {
    rules.push({
      kind: "api_key",
      find: (text) => API_KEY_PATTERNS.flatMap(({ pattern, mayMatch }) => (mayMatch(text) ? findAll(pattern, text) : [])),
    });
  }
  if (settings.cardNumbers) rules.push({ kind: "card", find: findCards });
  if (settings.emails) rules.push({ kind: "email", find: (text) => (text.includes("@") ? findAll(EMAIL_PATTERN, text) : []) });
  for (const pattern of settings.patterns) {
    const regex = compileCustomPattern(pattern);
    rules.push({ kind: pattern.name, find: (text) => findAll(regex, text) });
  }
  // Kinds in rule order, so the reported list is stable (secret, api_key, card, email, custom…).
  const kindOrder = new Map(rules.map((rule, index) => [rule.kind, index] as const));

  function redactText(text: string): { text: string; redactions: Redaction[] } {
    if (rules.length === 0 || text.length === 0) return { text, redactions: [] };
    const spans: Span[] = [];
    rules.forEach((rule, priority) => {
      for (const [start, end] of rule.find(text)) spans.push({ start, end, kind: rule.kind, priority });
    });
    if (spans.length === 0) return { text, redactions: [] };
    const counts = new Map<string, number>();
    let out = "";
    let cursor = 0;
    for (const span of mergeSpans(spans)) {
      out += text.slice(cursor, span.start) + redactionMarker(span.kind);
      cursor = span.end;
      counts.set(span.kind, (counts.get(span.kind) ?? 0) + 1);
    }
    out += text.slice(cursor);
    return { text: out, redactions: sortedRedactions(counts) };
  }

  function sortedRedactions(counts: Map<string, number>): Redaction[] {
    return [...counts.entries()]
      .sort(([a], [b]) => (kindOrder.get(a) ?? 0) - (kindOrder.get(b) ?? 0))
      .map(([kind, count]) => ({ kind, count }));
  }

  function redactJson<T>(value: T): { value: T; redactions: Redaction[] } {
    const counts = new Map<string, number>();
    const walk = (node: unknown): unknown => {
      if (typeof node === "string") {
        const result = redactText(node);
        addCounts(counts, result.redactions);
        return result.text;
      }
      if (typeof node === "number" && Number.isFinite(node)) {
        const result = redactText(String(node));
        if (result.redactions.length === 0) return node;
        addCounts(counts, result.redactions);
        return result.text;
      }
      if (Array.isArray(node)) return node.map(walk);
      if (node !== null && typeof node === "object" && isPlainObject(node)) {
        return Object.fromEntries(Object.entries(node).map(([key, child]) => [key, walk(child)]));
      }
      return node;
    };
    const redacted = walk(value) as T;
    return { value: redacted, redactions: sortedRedactions(counts) };
  }

  return { redactText, redactJson };
}

function isPlainObject(value: object): value is Record<string, unknown> {
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * The org's redactor for the runtime: its governance settings plus the decrypted values of all its Secrets (only
 * when secret redaction is on). A secret that cannot be decrypted with this key is skipped with a warning: this
 * process cannot have handed it to any tool either.
 */
export async function loadRedactor(db: DbOrTx, orgId: string, encryptionKey: Buffer): Promise<Redactor> {
  // One statement (secret redaction is on by default): the kernel reads this before every run's first step.
  const [org] = await sqlFor(db).query<{
    governance: unknown;
    secrets: { name: string; ciphertext: string; iv: string; authTag: string }[];
  }>(
    `SELECT o.governance,
            COALESCE((SELECT json_agg(json_build_object('name', s.name, 'ciphertext', s.ciphertext, 'iv', s.iv, 'authTag', s.auth_tag) ORDER BY s.name)
                        FROM secrets s WHERE s.org_id = o.id), '[]'::json) AS secrets
       FROM orgs o WHERE o.id = $1`,
    [orgId],
  );
  if (!org) throw new NotFound("Organisation");
  const settings = settingsFrom(org.governance);
  const values: string[] = [];
  if (settings.redaction.secrets) {
    for (const row of org.secrets) {
      try {
        values.push(decryptSecret(row, encryptionKey));
      } catch {
        logger.warn("secret cannot be decrypted for redaction; skipped", { orgId, secret: row.name });
      }
    }
  }
  return createRedactor(settings.redaction, values);
}
