import crypto from "node:crypto";
import type { Db } from "@/server/db";
import { Prisma } from "@/server/generated/prisma/client";
import { recallForRun } from "@/server/domain/memory/memories";
import { benchDatabaseKinds, openBenchDatabase, type BenchDatabaseKind } from "./lib/databases";
import { percentile, runMain } from "./lib/stats";

/**
 * How long a run's recall takes (the remember/recall tools and run-start injection call recallForRun, k = 5) in an
 * organisation with 100,000 memories, on the embedded database (PGlite, a data folder on disk, as `npm start` runs
 * it) and on PostgreSQL (BENCH_DATABASE_URL, default switchboard_bench; its schema is dropped and recreated).
 *
 *   npm run bench:memory            (or: npx tsx bench/memory-recall.ts)
 *   BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test_bench npm run bench:memory
 *   BENCH_SKIP_POSTGRES=1 npm run bench:memory      (embedded only)
 *
 * Exits non-zero when a p95 misses its target: PostgreSQL < 20 ms, embedded < 50 ms.
 */

const MEMORIES = Number(process.env.BENCH_MEMORIES ?? 100_000);
const AGENTS = 12;
const USERS = 60;
const BATCH = 1_000;
const WARM_UP = 30;
const ITERATIONS = 300;
const K = 5;
const TARGETS = { postgresql: 20, embedded: 50 } as const;

const ms = (value: number) => `${value.toFixed(1).padStart(6)} ms`;

// ─── Realistic text ──────────────────────────────────────────────────────────────────────────────────────────────

/** Deterministic, so both databases hold the same memories and answer the same queries. */
function rng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const FIRST = "Dana Priya Tomas Mei Oluwaseun Lars Ana Kenji Fatima Noah Ines Rafael Sofia Arjun Chloe Mateo Aisha Jonas Lucia Omar Hana Viktor Elena Samir Greta Diego Yuki Marta Emeka Leila Hugo Nadia Pavel Rosa Tariq Ingrid Felix Amara Bruno Zoe".split(" ");
const LAST = "Okafor Lindqvist Moreau Tanaka Haddad Novak Costa Fischer Kowalski Brennan Silva Nakamura Petrov Duarte Richter Hassan Larsen Romero Sato Weber".split(" ");
const COMPANY = "Acme Globex Initech Umbrella Hooli Vandelay Stark Wayne Tyrell Cyberdyne Soylent Aperture Wonka Oscorp Massive Dynamic Gringotts Monarch Pied Piper Dunder Mifflin Prestige Nakatomi Blue Sun Oceanic Weyland Yutani Rekall Octan Virtucon Ollivander Krusty Duff Sirius Bluth Wernham Sterling Cooper".split(" ");
const TOPIC = "invoices renewals onboarding security reviews pricing refunds shipping contracts audits roadmap budgets hiring incidents migrations compliance billing support escalations forecasts procurement licensing".split(" ");
const CHANNEL = ["email", "Slack", "phone", "video calls", "text messages", "the portal", "Teams", "written memos"];
const DAY = "Monday Tuesday Wednesday Thursday Friday".split(" ");
const MONTH = "January February March April May June July August September October November December".split(" ");
const DEPT = "finance legal engineering sales marketing operations procurement support security".split(" ");
const TIME = ["early morning", "before nine", "late afternoon", "after lunch", "by end of day"];
const TOOL = "Jira Salesforce Zendesk NetSuite Workday Notion Confluence HubSpot GitHub Linear".split(" ");

function pick<T>(random: () => number, list: readonly T[]): T {
  return list[Math.floor(random() * list.length)] as T;
}

function memoryText(random: () => number): { content: string; kind: "FACT" | "PREFERENCE" | "EPISODE" } {
  const person = `${pick(random, FIRST)} ${pick(random, LAST)}`;
  const company = pick(random, COMPANY);
  const topic = pick(random, TOPIC);
  const n = 1000 + Math.floor(random() * 9000);
  const templates: [() => string, "FACT" | "PREFERENCE" | "EPISODE"][] = [
    [() => `${person} prefers ${pick(random, CHANNEL)} for anything about ${topic}, ideally ${pick(random, TIME)}.`, "PREFERENCE"],
    [() => `The ${company} account renews in ${pick(random, MONTH)}; ${person} in ${pick(random, DEPT)} signs off on it.`, "FACT"],
    [() => `Invoices for ${company} must quote purchase order ${n} and go to ${pick(random, DEPT)}, not to ${person}.`, "FACT"],
    [() => `On ${pick(random, DAY)} ${person} agreed to send the ${topic} summary for ${company} by ${pick(random, MONTH)} ${1 + Math.floor(random() * 28)}.`, "EPISODE"],
    [() => `${company} tracks ${topic} in ${pick(random, TOOL)}; ask ${person} for access before filing anything.`, "FACT"],
    [() => `Do not schedule ${topic} meetings with ${person} on ${pick(random, DAY)}s; they block it for ${pick(random, DEPT)} work.`, "PREFERENCE"],
    [() => `Ticket ${n}: ${company} reported a problem with ${topic}, resolved by ${person} after escalation to ${pick(random, DEPT)}.`, "EPISODE"],
    [() => `${person} wants ${topic} drafts short, in bullet points, with the ${company} numbers first.`, "PREFERENCE"],
    [() => `${company} is a ${pick(random, ["strategic", "small", "enterprise", "new", "at-risk", "key"])} customer; ${topic} questions go to ${person}.`, "FACT"],
  ];
  const [make, kind] = pick(random, templates);
  return { content: make(), kind };
}

function recallQuery(random: () => number): string {
  const person = `${pick(random, FIRST)} ${pick(random, LAST)}`;
  const company = pick(random, COMPANY);
  const topic = pick(random, TOPIC);
  return pick(random, [
    () => `what does ${person} prefer for ${topic}`,
    () => `${company} renewal date`,
    () => `who signs off ${company} invoices purchase order`,
    () => `${topic} tracking tool at ${company}`,
    () => `${person}`,
    () => `when should I meet ${pick(random, FIRST)} about ${topic}`,
    () => `${company} ${topic} escalation history`,
    () => `how does ${pick(random, FIRST)} like ${topic} drafts formatted`,
  ])();
}

// ─── Seeding ─────────────────────────────────────────────────────────────────────────────────────────────────────

interface Seeded {
  orgId: string;
  agentIds: string[];
  userIds: string[];
}

async function seed(db: Db): Promise<Seeded> {
  const org = await db.org.create({ data: { name: "Bench Corp", slug: "bench" } });
  const userIds: string[] = [];
  for (let i = 0; i < USERS; i += 1) {
    const user = await db.user.create({ data: { email: `person${i}@bench.test`, name: `Person ${i}` } });
    await db.membership.create({ data: { orgId: org.id, userId: user.id, role: i === 0 ? "OWNER" : "MEMBER" } });
    userIds.push(user.id);
  }
  const agentIds: string[] = [];
  for (let i = 0; i < AGENTS; i += 1) {
    agentIds.push((await db.agent.create({ data: { orgId: org.id, slug: `agent-${i}`, name: `Agent ${i}` } })).id);
  }
  const random = rng(42);
  const now = Date.now();
  let previousId: string | null = null;
  for (let start = 0; start < MEMORIES; start += BATCH) {
    const rows: Prisma.Sql[] = [];
    for (let i = start; i < Math.min(MEMORIES, start + BATCH); i += 1) {
      const { content, kind } = memoryText(random);
      const roll = random();
      // A fifth for the whole org, half for one agent, the rest personal (mostly preferences).
      const scope = roll < 0.2 ? "ORG" : roll < 0.7 ? "AGENT" : "USER";
      const agentId = scope === "AGENT" ? pick(random, agentIds) : null;
      const userId = scope === "USER" ? pick(random, userIds) : null;
      const createdAt = new Date(now - Math.floor(random() * 365 * 86_400_000)).toISOString();
      const pinned = random() < 0.01;
      // A few near-duplicates were merged, a few have a time to live (some already over).
      const supersededBy = random() < 0.03 ? previousId : null;
      const expiresAt = random() < 0.05 ? new Date(now + (random() - 0.3) * 60 * 86_400_000).toISOString() : null;
      const id = crypto.randomUUID();
      previousId = id;
      rows.push(Prisma.sql`(${id}, ${org.id}, ${scope}::"MemoryScope", ${agentId}, ${userId}, ${kind}::"MemoryKind", ${content},
        ${pinned}, ${expiresAt}::timestamp, ${supersededBy}, ${createdAt}::timestamp, ${createdAt}::timestamp)`);
    }
    await db.$executeRaw`
      INSERT INTO memories (id, org_id, scope, agent_id, user_id, kind, content, pinned, expires_at, superseded_by_id, created_at, updated_at)
      VALUES ${Prisma.join(rows)}`;
  }
  return { orgId: org.id, agentIds, userIds };
}

// ─── Timing ──────────────────────────────────────────────────────────────────────────────────────────────────────

interface Result {
  p50: number;
  p95: number;
  max: number;
  avgHits: number;
}

async function time(db: Db, seeded: Seeded): Promise<Result> {
  const random = rng(7);
  const next = () => ({
    orgId: seeded.orgId,
    agentId: pick(random, seeded.agentIds),
    onBehalfOfUserId: random() < 0.9 ? pick(random, seeded.userIds) : null,
    query: recallQuery(random),
    k: K,
  });
  for (let i = 0; i < WARM_UP; i += 1) await recallForRun(db, next());
  const samples: number[] = [];
  let hits = 0;
  for (let i = 0; i < ITERATIONS; i += 1) {
    const input = next();
    const start = process.hrtime.bigint();
    const recalled = await recallForRun(db, input);
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    hits += recalled.length;
  }
  samples.sort((a, b) => a - b);
  return { p50: percentile(samples, 0.5), p95: percentile(samples, 0.95), max: samples[samples.length - 1] ?? 0, avgHits: hits / ITERATIONS };
}

async function benchDatabase(label: string, db: Db, analyze: () => Promise<void>): Promise<Result> {
  let started = Date.now();
  const seeded = await seed(db);
  console.log(`  seeded ${MEMORIES.toLocaleString("en")} memories (${AGENTS} agents, ${USERS} people) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  started = Date.now();
  await analyze();
  console.log(`  analyzed in ${Date.now() - started} ms`);
  const sample = await recallForRun(db, { orgId: seeded.orgId, agentId: seeded.agentIds[0] ?? "", onBehalfOfUserId: seeded.userIds[0] ?? null, query: "what does Dana Okafor prefer for invoices", k: K });
  console.log(`  e.g. "what does Dana Okafor prefer for invoices" → ${sample.map((m) => `"${m.content.slice(0, 60)}…"`).join(", ") || "nothing"}`);
  const result = await time(db, seeded);
  console.log(`  ${label}: ${WARM_UP} warm-up + ${ITERATIONS} timed recalls (k=${K}), ${result.avgHits.toFixed(1)} memories each on average`);
  return result;
}

async function onDatabase(kind: BenchDatabaseKind): Promise<Result> {
  const bench = await openBenchDatabase(kind, "memory", { poolSize: 4 });
  try {
    console.log(`\nDatabase: ${bench.label}; ${await bench.durability()}`);
    // The embedded database has no autovacuum: ANALYZE by hand, as the worker's memory sweep does.
    return await benchDatabase(kind, bench.db, async () => {
      await bench.query(kind === "embedded" ? "ANALYZE" : "VACUUM ANALYZE memories");
    });
  } finally {
    await bench.close();
  }
}

async function main(): Promise<number> {
  const results: [keyof typeof TARGETS, Result][] = [];
  for (const kind of benchDatabaseKinds()) results.push([kind, await onDatabase(kind)]);

  console.log(`\nrecallForRun over ${MEMORIES.toLocaleString("en")} memories, k=${K}:`);
  console.log("  database        p50        p95        max    target p95");
  let ok = true;
  for (const [database, result] of results) {
    const pass = result.p95 < TARGETS[database];
    ok &&= pass;
    console.log(`  ${database.padEnd(11)} ${ms(result.p50)} ${ms(result.p95)} ${ms(result.max)}    < ${TARGETS[database]} ms  ${pass ? "PASS" : "FAIL"}`);
  }
  return ok ? 0 : 1;
}

runMain(main);
