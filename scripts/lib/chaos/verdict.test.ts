import { describe, expect, it } from "vitest";
import { judge, stepSubject, type ChaosEvidence, type ToolEventRow } from "./verdict";

/** One run ("r1", input "chaos run 1") whose two steps were each called once, recorded OK and sent once. */
function cleanEvidence(): ChaosEvidence {
  const input = "chaos run 1";
  const toolEvents: ToolEventRow[] = [1, 2].map((step) => ({
    runId: "r1",
    seq: step * 3,
    status: "OK",
    idempotencyKey: `r1:${step * 3}`,
    subject: stepSubject(input, step),
    errorKind: null,
    errorMessage: null,
  }));
  return {
    queuedRunIds: ["r1"],
    runs: [{ id: "r1", status: "SUCCEEDED", input, error: null }],
    toolEvents,
    ledger: toolEvents.map((event) => ({ idempotencyKey: event.idempotencyKey, subject: event.subject! })),
    stepsPerRun: 2,
  };
}

describe("the chaos verdict", () => {
  it("finds nothing wrong when every step happened once and is recorded as done", () => {
    expect(judge(cleanEvidence())).toMatchObject({ runs: 1, lost: 0, duplicated: 0, stuck: 0, succeeded: 1, skippedSteps: 0 });
  });

  it("counts a step sent twice under two keys as a duplicated side effect", () => {
    const evidence = cleanEvidence();
    const again = { idempotencyKey: "r1:9", subject: stepSubject("chaos run 1", 2) };
    expect(judge({ ...evidence, ledger: [...evidence.ledger, again] }).duplicated).toBe(1);
  });

  it("counts one key executed twice as a duplicated side effect", () => {
    const evidence = cleanEvidence();
    expect(judge({ ...evidence, ledger: [...evidence.ledger, evidence.ledger[0]!] }).duplicated).toBe(1);
  });

  it("counts a run lost when a step recorded as done never happened", () => {
    const evidence = cleanEvidence();
    expect(judge({ ...evidence, ledger: evidence.ledger.slice(1) }).lost).toBe(1);
  });

  it("counts a run lost when a step happened but its trace says it failed", () => {
    const evidence = cleanEvidence();
    const failed = evidence.toolEvents.map((event, i) => (i === 0 ? { ...event, status: "ERROR" as const, errorKind: "crashed" } : event));
    const verdict = judge({ ...evidence, toolEvents: failed });
    expect(verdict.lost).toBe(1);
    expect([...verdict.failedToolCalls.keys()]).toEqual(["crashed: "]);
  });

  it("counts a queued run that vanished as lost, and one not terminal as stuck", () => {
    const evidence = cleanEvidence();
    expect(judge({ ...evidence, queuedRunIds: ["r1", "gone"] }).lost).toBe(1);
    expect(judge({ ...evidence, runs: [{ ...evidence.runs[0]!, status: "RUNNING" }] }).stuck).toBe(1);
  });

  it("reports a failed call that sent nothing as a skipped step, not a loss", () => {
    const evidence = cleanEvidence();
    const failed = evidence.toolEvents.map((event, i) => (i === 0 ? { ...event, status: "ERROR" as const, errorKind: "connect" } : event));
    const verdict = judge({ ...evidence, toolEvents: failed, ledger: evidence.ledger.slice(1) });
    expect(verdict).toMatchObject({ lost: 0, duplicated: 0, skippedSteps: 1 });
  });
});
