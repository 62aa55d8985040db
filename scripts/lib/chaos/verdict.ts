/**
 * What a chaos run proves, computed from the database and the demo server's ledger after the dust settles.
 *
 * Definitions (one side effect = one step of one run's script, identified by the email subject "<input> / step k"):
 * - lost: a run that was queued and is gone, or whose trace and the outside world disagree: a TOOL_CALL recorded
 *   as OK whose idempotency key has no ledger entry (recorded as done, never happened), or a ledger entry that no
 *   OK TOOL_CALL of its run records (happened, yet the run believes it failed or never tried) — either way the
 *   agent and its operators are misinformed. Counted in runs.
 * - duplicated side effects: ledger entries beyond the first for one step of one run, or for one idempotency key.
 *   The demo server answers a replayed key from its ledger without recording anything, so every ledger line is a
 *   side effect that really happened; two lines for one step mean it happened twice.
 * - stuck: runs not in a terminal state (SUCCEEDED, FAILED, HALTED, CANCELLED) by the deadline.
 */

export const TERMINAL = new Set(["SUCCEEDED", "FAILED", "HALTED", "CANCELLED"]);

export interface RunRow {
  id: string;
  status: string;
  input: string;
  error: string | null;
}

export interface ToolEventRow {
  runId: string;
  seq: number;
  status: "PENDING" | "OK" | "ERROR";
  idempotencyKey: string | null;
  /** The email subject the call carried: which step of which run it was. */
  subject: string | null;
  /** For a failed call: the pool's error kind ("crashed", "timeout", ...) or "tool_error" for an isError result. */
  errorKind: string | null;
  errorMessage: string | null;
}

export interface LedgerRow {
  idempotencyKey: string | null;
  subject: string;
}

export interface ChaosEvidence {
  queuedRunIds: readonly string[];
  runs: readonly RunRow[];
  toolEvents: readonly ToolEventRow[];
  ledger: readonly LedgerRow[];
  stepsPerRun: number;
}

export interface Verdict {
  runs: number;
  lost: number;
  duplicated: number;
  stuck: number;
  succeeded: number;
  /** Runs that ended FAILED, HALTED or CANCELLED, by their error. */
  notSucceeded: Map<string, number>;
  /** Tool calls that ended ERROR (recorded as failed, nothing happened outside), by kind. */
  failedToolCalls: Map<string, number>;
  /** Steps of succeeded runs with no side effect at all (the call failed and the script went on). */
  skippedSteps: number;
  /** Up to 10 explanations of each problem, for a person to follow up. */
  problems: string[];
}

export function stepSubject(input: string, step: number): string {
  return `${input} / step ${step}`;
}

function increment<K>(map: Map<K, number>, key: K): void {
  map.set(key, (map.get(key) ?? 0) + 1);
}

export function judge(evidence: ChaosEvidence): Verdict {
  const problems: string[] = [];
  const note = (text: string) => {
    if (problems.length < 30) problems.push(text);
  };
  const runsById = new Map(evidence.runs.map((run) => [run.id, run]));
  const runByInput = new Map(evidence.runs.map((run) => [run.input, run]));
  const lostRuns = new Set<string>();

  for (const id of evidence.queuedRunIds) {
    if (!runsById.has(id)) {
      lostRuns.add(id);
      note(`run ${id} was queued and no longer exists`);
    }
  }

  const ledgerByKey = new Map<string, LedgerRow[]>();
  const ledgerBySubject = new Map<string, LedgerRow[]>();
  for (const entry of evidence.ledger) {
    if (entry.idempotencyKey) ledgerByKey.set(entry.idempotencyKey, [...(ledgerByKey.get(entry.idempotencyKey) ?? []), entry]);
    ledgerBySubject.set(entry.subject, [...(ledgerBySubject.get(entry.subject) ?? []), entry]);
  }
  const okKeys = new Set<string>();
  const failedToolCalls = new Map<string, number>();
  for (const event of evidence.toolEvents) {
    if (event.status === "OK" && event.idempotencyKey) {
      okKeys.add(event.idempotencyKey);
      if (!ledgerByKey.has(event.idempotencyKey)) {
        lostRuns.add(event.runId);
        note(`run ${event.runId} step "${event.subject}" (seq ${event.seq}) is recorded as done, but no such email was sent`);
      }
    }
    if (event.status === "ERROR") increment(failedToolCalls, `${event.errorKind ?? "error"}: ${(event.errorMessage ?? "").slice(0, 140)}`);
  }

  let duplicated = 0;
  for (const [subject, entries] of ledgerBySubject) {
    if (entries.length > 1) {
      duplicated += entries.length - 1;
      note(`"${subject}" was sent ${entries.length} times (keys ${entries.map((e) => e.idempotencyKey).join(", ")})`);
    }
  }
  for (const [key, entries] of ledgerByKey) {
    // Already counted above when the copies share a subject (they always do for one key); a key reused across
    // subjects would be a kernel bug of its own.
    const subjects = new Set(entries.map((e) => e.subject));
    if (entries.length > 1 && subjects.size > 1) {
      duplicated += entries.length - 1;
      note(`idempotency key ${key} was executed ${entries.length} times for different steps`);
    }
  }

  for (const entry of evidence.ledger) {
    const input = entry.subject.replace(/ \/ step \d+$/, "");
    const run = runByInput.get(input);
    if (!run) {
      note(`an email "${entry.subject}" was sent for no run of this chaos run`);
      lostRuns.add(`(unknown: ${entry.subject})`);
      continue;
    }
    if (!entry.idempotencyKey || !okKeys.has(entry.idempotencyKey)) {
      lostRuns.add(run.id);
      note(`run ${run.id}: "${entry.subject}" was sent (key ${entry.idempotencyKey}), but the run's trace does not record that call as done`);
    }
  }

  let stuck = 0;
  let succeeded = 0;
  let skippedSteps = 0;
  const notSucceeded = new Map<string, number>();
  for (const id of evidence.queuedRunIds) {
    const run = runsById.get(id);
    if (!run) continue;
    if (!TERMINAL.has(run.status)) {
      stuck += 1;
      note(`run ${id} is still ${run.status}`);
      continue;
    }
    if (run.status !== "SUCCEEDED") {
      increment(notSucceeded, `${run.status}: ${(run.error ?? "").slice(0, 160)}`);
      continue;
    }
    succeeded += 1;
    for (let step = 1; step <= evidence.stepsPerRun; step++) {
      if (!ledgerBySubject.has(stepSubject(run.input, step))) skippedSteps += 1;
    }
  }

  return {
    runs: evidence.queuedRunIds.length,
    lost: lostRuns.size,
    duplicated,
    stuck,
    succeeded,
    notSucceeded,
    failedToolCalls,
    skippedSteps,
    problems,
  };
}
