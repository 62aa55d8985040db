import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sha256Hex } from "../domain/canonical";
import { overrideDatabaseForTests, type Db } from "../db";
import { openTestDatabase, type TestDatabase } from "../testing/databases";
import { recordSecurityCounts } from "./report";
import { referenceInputs, type ReferenceKind } from "./lib/references";
import { callRestEndpoint, restInputs } from "./lib/rest-calls";
import { seedRichOrg, type SeededOrg } from "./lib/seed";
import { idsByTable, serialize, snapshotOrg, tenantTables } from "./lib/snapshot";
import { callProcedure, listEndpoints, listProcedures } from "./lib/targets";

/**
 * Secrets are shown once (API keys, invitation tokens, webhook secrets) or never (Secret values, model API keys,
 * passwords). As the org's OWNER, every query procedure and every GET endpoint is called with inputs generated from
 * its schema and real ids of every kind; no response may contain a plaintext, its hash, or a Secret's ciphertext.
 */
describe("secrets never returned [pglite]", () => {
  let handle: TestDatabase;
  let db: Db;
  let seeded: SeededOrg;
  /** label → the string that must never appear in a response. */
  const forbidden = new Map<string, string>();
  const counts = { "query procedures total": 0, "query procedures tried": 0, "GET endpoints total": 0, "GET endpoints tried": 0, "responses checked": 0, "secret strings": 0, "secret leaks": 0 };
  const leaks: string[] = [];

  beforeAll(async () => {
    handle = await openTestDatabase("pglite");
    db = handle.db;
    overrideDatabaseForTests(db, { kind: "pglite", dataDir: "memory://" });
    seeded = await seedRichOrg(db, "vault");
    const owner = seeded.org.principals.OWNER;
    const modelApiKey = `sk-vault-${crypto.randomUUID()}`;
    await callProcedure({ db, principal: owner }, "models.create", { name: "vault-openai", provider: "OPENAI", model: "gpt-4o-mini", apiKey: modelApiKey });

    const { planted } = seeded;
    const plaintexts: Record<string, string> = {
      "API key": planted.apiKey,
      "Secret value": planted.secretValue,
      "webhook secret": planted.webhookSecret,
      "invitation token": planted.invitationToken,
      password: planted.password,
      "model API key": modelApiKey,
    };
    for (const [label, value] of Object.entries(plaintexts)) {
      forbidden.set(label, value);
      forbidden.set(`${label} SHA-256`, sha256Hex(value));
    }
    // What the database holds for them, read past the client's default `omit`.
    const owners = await db.user.findMany({ where: { id: owner.userId }, omit: { passwordHash: false } });
    for (const user of owners) if (user.passwordHash) forbidden.set("password hash", user.passwordHash);
    const secrets = await db.secret.findMany({ where: { orgId: seeded.org.orgId }, omit: { ciphertext: false, authTag: false } });
    for (const secret of secrets) {
      forbidden.set(`ciphertext of ${secret.name}`, secret.ciphertext);
      forbidden.set(`auth tag of ${secret.name}`, secret.authTag);
    }
    counts["secret strings"] = forbidden.size;
    expect(forbidden.size).toBeGreaterThanOrEqual(14);
  }, 300_000);

  afterAll(async () => {
    counts["secret leaks"] = leaks.length;
    recordSecurityCounts("secrets", counts);
    await handle?.close();
  });

  function check(where: string, output: unknown): void {
    counts["responses checked"] += 1;
    const text = typeof output === "string" ? output : serialize(output) ?? "";
    for (const [label, value] of forbidden) if (text.includes(value)) leaks.push(`${where} returned the ${label}`);
  }

  async function ownKinds(): Promise<{ kinds: ReferenceKind[]; tables: string[]; firstIdOf: (table: string) => string | undefined }> {
    const tables = await tenantTables(db);
    const snapshot = await snapshotOrg(db, seeded.org.orgId, tables);
    const ids = idsByTable(snapshot);
    const kinds = Object.entries(ids).flatMap(([table, list]) => (list[0] ? [{ name: table, value: list[0] }] : []));
    kinds.push({ name: "agent slug", value: seeded.agentSlug });
    return { kinds, tables, firstIdOf: (table) => ids[table]?.[0] };
  }

  it("no query procedure returns a secret, its hash or its ciphertext", async () => {
    const { kinds, tables, firstIdOf } = await ownKinds();
    const context = { db, principal: seeded.org.principals.OWNER };
    const queries = listProcedures().filter((procedure) => procedure.type === "query");
    counts["query procedures total"] = queries.length;
    for (const procedure of queries) {
      let answered = false;
      const inputs = procedure.inputSchema ? referenceInputs(procedure.inputSchema, kinds, firstIdOf, tables) : [undefined];
      for (const input of inputs) {
        const output = await callProcedure(context, procedure.path, input).then(
          (value) => ({ value }),
          () => null,
        );
        if (output) {
          answered = true;
          check(procedure.path, output.value);
        }
      }
      if (answered) counts["query procedures tried"] += 1;
    }
    expect(leaks).toEqual([]);
    // Token-authenticated describeInvitation is only answerable with the token itself (tried below).
    expect(counts["query procedures tried"]).toBeGreaterThanOrEqual(queries.length - 1);
    const invitation = await callProcedure(context, "members.describeInvitation", { token: seeded.planted.invitationToken });
    check("members.describeInvitation", invitation);
    expect(leaks).toEqual([]);
  });

  it("no GET endpoint returns a secret, its hash or its ciphertext", async () => {
    const { kinds, tables, firstIdOf } = await ownKinds();
    const gets = (await listEndpoints()).filter((endpoint) => endpoint.definition.method === "GET");
    counts["GET endpoints total"] = gets.length;
    for (const endpoint of gets) {
      let answered = false;
      for (const input of restInputs(endpoint.definition, (schema) => (schema ? referenceInputs(schema, kinds, firstIdOf, tables) : [{}]))) {
        const response = await callRestEndpoint(endpoint, seeded.apiKey.plaintext, input);
        const text = await response.text();
        if (response.ok) answered = true;
        check(`GET ${endpoint.definition.path}`, text);
      }
      if (answered) counts["GET endpoints tried"] += 1;
    }
    expect(leaks).toEqual([]);
    expect(counts["GET endpoints tried"]).toBe(gets.length);
  });

  it("stores no plaintext anywhere in the org's rows (audit data included)", async () => {
    const stored = serialize(await snapshotOrg(db, seeded.org.orgId, await tenantTables(db))) ?? "";
    for (const label of ["API key", "Secret value", "webhook secret", "invitation token", "password", "model API key"]) {
      expect(stored.includes(forbidden.get(label)!), `${label} stored in plaintext`).toBe(false);
    }
  });
});
