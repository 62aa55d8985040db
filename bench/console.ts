import { getRun, getRunTrace, listRuns } from "@/server/domain/runs/runs";
import { createTestOrg } from "@/server/testing/fixtures";
import { createScriptedAgent } from "@/server/testing/kernel-fixtures";
import { benchDatabaseKinds, openBenchDatabase, type BenchDatabase, type BenchDatabaseKind } from "./lib/databases";
import { describeMachine } from "./lib/machine";
import { elapsedMs, envCount, fmtMs, runMain, summarise, table, type Summary } from "./lib/stats";

/**
 * Console server time at scale: the domain calls behind the runs list (tRPC runs.list) and the run page (runs.get +
 * runs.trace) in an organisation with 100,000 runs, one of which has 1,000 events (tool results of ~1 KB each).
 * Seeded with bulk SQL (INSERT … SELECT generate_series), then ANALYZE; each call timed after a warm-up.
 *
 *   npm run bench:console
 *   BENCH_CONSOLE_RUNS=20000 BENCH_SKIP_POSTGRES=1 npm run bench:console
 */

const RUNS = envCount("BENCH_CONSOLE_RUNS", 100_000, 20_000);
const EVENTS = envCount("BENCH_CONSOLE_EVENTS", 1_000, 1_000);
const AGENTS = 12;
const WARM_UP = 10;
const ITERATIONS = envCount("BENCH_CONSOLE_ITERATIONS", 100, 40);

interface Seeded {
  org: Awaited<ReturnType<typeof createTestOrg>>;
  agentIds: string[];
  bigRunId: string;
  middleCursor: string;
}

async function seed(bench: BenchDatabase): Promise<Seeded> {
  const org = await createTestOrg(bench.db, "console");
  const agentIds: string[] = [];
  const versionIds: string[] = [];
  for (let i = 0; i < AGENTS; i += 1) {
    const agent = await createScriptedAgent(bench.db, org, { script: [{ final: "ok" }], tools: [], slug: `console-agent-${i}` });
    agentIds.push(agent.agentId);
    versionIds.push(agent.versionId);
  }
  const userId = org.principals.OWNER.userId;
  // Most runs ended; a few are queued, running, waiting or failed, spread over the last 90 days.
  await bench.query(
    `INSERT INTO runs (id, org_id, agent_id, agent_version_id, status, trigger, on_behalf_of_user_id, created_by_user_id, input, output,
                       step_count, input_tokens, output_tokens, cost_micros, created_at, started_at, ended_at, updated_at)
     SELECT 'seed' || lpad(n::text, 7, '0'), $1, a.agent_id, a.version_id,
            (CASE WHEN n % 50 = 0 THEN 'FAILED' WHEN n % 97 = 0 THEN 'HALTED' WHEN n % 500 = 1 THEN 'WAITING_APPROVAL' ELSE 'SUCCEEDED' END)::"RunStatus",
            (CASE WHEN n % 3 = 0 THEN 'API' ELSE 'CONSOLE' END)::"RunTrigger", $2, $2,
            'Summarise ticket #' || n || ' and draft a reply to the customer.', 'Done: ticket ' || n,
            10, 2000 + n % 500, 300 + n % 90, 1500 + n % 700,
            t, t + interval '1 second', t + interval '6 seconds', t + interval '6 seconds'
       FROM generate_series(1, $3::int) AS n
       CROSS JOIN LATERAL (SELECT now() - (n * (90 * 86400.0 / $3::int)) * interval '1 second' AS t) AS at
       JOIN (SELECT row_number() OVER () - 1 AS i, agent_id, version_id FROM unnest($4::text[], $5::text[]) AS x(agent_id, version_id)) a ON a.i = n % $6::int`,
    [org.orgId, userId, RUNS, agentIds, versionIds, AGENTS],
  );
  const bigRunId = "seed0000001"; // the newest run: the one a person opens from the top of the list
  const toolOutput = "x".repeat(1000);
  await bench.query(
    `INSERT INTO run_events (id, org_id, run_id, seq, type, name, status, payload, started_at, ended_at)
     SELECT 'seedev' || n, $1, $2, n,
            (CASE WHEN n = 1 THEN 'RUN_STARTED' WHEN n = $3::int THEN 'RUN_FINISHED' WHEN n % 3 = 2 THEN 'MODEL_CALL' WHEN n % 3 = 0 THEN 'POLICY_DECISION' ELSE 'TOOL_CALL' END)::"RunEventType",
            'step ' || n, 'OK'::"RunEventStatus",
            jsonb_build_object('toolCallId', 'call_' || n, 'tool', 'read_text_file', 'args', jsonb_build_object('path', '/sandbox/file-' || n || '.txt'),
                               'result', jsonb_build_object('content', $4::text, 'isError', false)),
            now() - ($3::int - n) * interval '10 ms', now() - ($3::int - n) * interval '10 ms' + interval '5 ms'
       FROM generate_series(1, $3::int) AS n`,
    [org.orgId, bigRunId, EVENTS, toolOutput],
  );
  await bench.query(`UPDATE runs SET step_count = $2 WHERE id = $1`, [bigRunId, EVENTS]);
  await bench.query("ANALYZE");
  // A page deep in the list: where "next page" leads after 200 pages.
  const middle = await bench.query<{ id: string }>(`SELECT id FROM runs WHERE org_id = $1 ORDER BY created_at DESC, id DESC OFFSET 10000 LIMIT 1`, [org.orgId]);
  return { org, agentIds, bigRunId, middleCursor: middle[0]?.id ?? bigRunId };
}

async function time(call: () => Promise<unknown>): Promise<Summary> {
  for (let i = 0; i < WARM_UP; i += 1) await call();
  const samples: number[] = [];
  for (let i = 0; i < ITERATIONS; i += 1) {
    const start = process.hrtime.bigint();
    await call();
    samples.push(elapsedMs(start));
  }
  return summarise(samples);
}

async function measure(kind: BenchDatabaseKind): Promise<{ label: string; durability: string; seedMs: number; rows: [string, Summary][] }> {
  const bench = await openBenchDatabase(kind, "console", { poolSize: 4 });
  try {
    const start = process.hrtime.bigint();
    const seeded = await seed(bench);
    const seedMs = elapsedMs(start);
    const owner = seeded.org.principals.OWNER;
    const page = await listRuns(bench.db, owner, { limit: 50 });
    if (page.items.length !== 50 || page.items[0]?.id !== seeded.bigRunId) throw new Error("The runs list did not open with the newest seeded runs.");
    const trace = await getRunTrace(bench.db, owner, seeded.bigRunId);
    if (trace.length !== EVENTS) throw new Error(`The big run's timeline has ${trace.length} events, expected ${EVENTS}.`);
    const rows: [string, Summary][] = [
      ["runs list, first page (50)", await time(() => listRuns(bench.db, owner, { limit: 50 }))],
      ["runs list, page 201 (cursor)", await time(() => listRuns(bench.db, owner, { limit: 50, cursor: seeded.middleCursor }))],
      ["runs list, status = FAILED", await time(() => listRuns(bench.db, owner, { limit: 50, status: "FAILED" }))],
      ["runs list, one agent", await time(() => listRuns(bench.db, owner, { limit: 50, agentId: seeded.agentIds[3] }))],
      [`run page: run + timeline of ${EVENTS} events`, await time(() => Promise.all([getRun(bench.db, owner, seeded.bigRunId), getRunTrace(bench.db, owner, seeded.bigRunId)]))],
    ];
    return { label: bench.label, durability: await bench.durability(), seedMs, rows };
  } finally {
    await bench.close();
  }
}

async function main(): Promise<number> {
  console.log(`## Console server time\n`);
  console.log(`Machine: ${describeMachine()}`);
  console.log(`Data: one organisation with ${RUNS.toLocaleString("en")} runs over 90 days (${AGENTS} agents) and one run of ${EVENTS.toLocaleString("en")} events (~1 KB each); ${WARM_UP} warm-up + ${ITERATIONS} timed calls of the domain functions the tRPC procedures call.\n`);
  const results: Awaited<ReturnType<typeof measure>>[] = [];
  for (const kind of benchDatabaseKinds()) {
    console.log(`seeding and measuring ${kind}…`);
    const result = await measure(kind);
    console.log(`  ${result.label}: seeded in ${(result.seedMs / 1000).toFixed(1)} s; ${result.durability}`);
    results.push(result);
  }
  const rows = results.flatMap((r) => r.rows.map(([name, s]) => [r.label.split(" ")[0] ?? r.label, name, fmtMs(s.p50, 1), fmtMs(s.p95, 1), fmtMs(s.max, 1)]));
  console.log(`\n${table(["Database", "Call", "p50", "p95", "max"], rows)}`);
  return 0;
}

runMain(main);
