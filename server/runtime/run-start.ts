import type { Db } from "../db";
import type { Prisma } from "../generated/prisma/client";
import { sqlFor } from "../sql";
import { batchPerTurn } from "./coalesce";

export interface RunStartClaim {
  runId: string;
  orgId: string;
  workerId: string;
}

/** What a worker reads of a run it took up: the run, and its trace so far. */
export interface RunStart {
  run: {
    id: string;
    input: string;
    agentId: string;
    agentVersionId: string;
    onBehalfOfUserId: string;
    startedAt: Date | null;
    costMicros: number;
    cancelRequested: boolean;
  };
  events: { id: string; seq: number; type: string; name: string; status: "PENDING" | "OK" | "ERROR"; payload: Prisma.JsonValue; startedAt: Date }[];
}

interface RunStartRow {
  id: string;
  input: string;
  agent_id: string;
  agent_version_id: string;
  on_behalf_of_user_id: string;
  started_at_ms: number | null;
  cost_micros: number;
  cancel_requested: boolean;
  events: { id: string; seq: number; type: string; name: string; status: "PENDING" | "OK" | "ERROR"; payload: Prisma.JsonValue; startedAtMs: number }[];
}

/**
 * Reads the runs this worker holds (null for one it no longer holds) with their events, in one statement for all.
 * Times come back as epoch milliseconds: a driver reading `timestamp` would take it for local time.
 */
export async function readRunStarts(db: Db, claims: readonly RunStartClaim[]): Promise<(RunStart | null)[]> {
  const rows = await sqlFor(db).query<RunStartRow>(
    `SELECT r.id, r.input, r.agent_id, r.agent_version_id, r.on_behalf_of_user_id, (extract(epoch FROM r.started_at) * 1000)::float8 AS started_at_ms,
            r.cost_micros, r.cancel_requested_at IS NOT NULL AS cancel_requested,
            COALESCE((SELECT json_agg(json_build_object('id', e.id, 'seq', e.seq, 'type', e.type, 'name', e.name, 'status', e.status, 'payload', e.payload,
                                                        'startedAtMs', (extract(epoch FROM e.started_at) * 1000)::float8) ORDER BY e.seq)
                        FROM run_events e WHERE e.run_id = r.id), '[]'::json) AS events
       FROM unnest($1::text[], $2::text[], $3::text[]) AS c(run_id, org_id, worker_id)
       JOIN runs r ON r.id = c.run_id
      WHERE (r.org_id = c.org_id AND r.lease_owner = c.worker_id AND r.status = 'RUNNING') IS TRUE`,
    [claims.map((c) => c.runId), claims.map((c) => c.orgId), claims.map((c) => c.workerId)],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return claims.map((claim) => {
    const row = byId.get(claim.runId);
    if (!row) return null;
    return {
      run: {
        id: row.id,
        input: row.input,
        agentId: row.agent_id,
        agentVersionId: row.agent_version_id,
        onBehalfOfUserId: row.on_behalf_of_user_id,
        startedAt: row.started_at_ms === null ? null : new Date(row.started_at_ms),
        costMicros: row.cost_micros,
        cancelRequested: row.cancel_requested,
      },
      events: row.events.map(({ startedAtMs, ...event }) => ({ ...event, startedAt: new Date(startedAtMs) })),
    };
  });
}

const readers = new WeakMap<Db, (claim: RunStartClaim) => Promise<RunStart | null>>();

/** readRunStarts for one run; the runs a worker takes up together are read together (see batchPerTurn). */
export function readRunStart(db: Db, claim: RunStartClaim): Promise<RunStart | null> {
  let reader = readers.get(db);
  if (!reader) {
    reader = batchPerTurn((claims: RunStartClaim[]) => readRunStarts(db, claims));
    readers.set(db, reader);
  }
  return reader(claim);
}
