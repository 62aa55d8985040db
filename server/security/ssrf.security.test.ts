import crypto from "node:crypto";
import dns from "node:dns";
import http from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db } from "../db";
import { DomainError } from "../domain/errors";
import { createEgressFetch } from "../domain/guards/egress-fetch";
import { classifyAddress, EgressRefused, type EgressLookup } from "../domain/guards/egress";
import { getToolServer, refreshToolServer, registerToolServer, updateToolServer } from "../domain/tools/servers";
import { McpClientPool } from "../runtime/mcp/pool";
import { openTestDatabase, type TestDatabase } from "../testing/databases";
import { createTestOrg, type TestOrg } from "../testing/fixtures";
import { createCaller } from "../trpc/root";
import { recordSecurityCounts } from "./report";

/**
 * SSRF: an org admin tries to make Switchboard talk to loopback, private, link-local and metadata addresses, in
 * every spelling, through DNS, through DNS rebinding and through a redirect, and with non-http schemes. Each
 * attempt must be refused when the server is registered (tRPC or domain call, as the admin) and, for a server
 * row that already exists (saved before the guard, or allow-listed and then removed), when Switchboard connects.
 * A canary MCP server on 127.0.0.1 and [::1] counts every request it receives: refused cases must never reach it.
 * Then the admin allow-lists the canary's address and the same path registers it and talks MCP to it.
 */

const HINT = "an admin can allow-list it under Governance settings.";
const PUBLIC_ADDRESS = "93.184.216.34";
const encryptionKey = crypto.randomBytes(32);

interface Canary {
  hits: number;
  port: number;
  close(): Promise<void>;
}

/** A real MCP server (stateless Streamable HTTP, one tool) that counts every request on every address it listens on. */
async function startCanary(): Promise<Canary> {
  const canary = { hits: 0, port: 0 };
  const handler = (request: http.IncomingMessage, response: http.ServerResponse) => {
    canary.hits += 1;
    if (request.method !== "POST") {
      response.writeHead(405, { allow: "POST" }).end();
      return;
    }
    const server = new McpServer({ name: "canary", version: "1.0.0" });
    server.registerTool("canary_ping", { description: "Answers pong." }, () => ({ content: [{ type: "text", text: "pong" }] }));
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
    response.on("close", () => {
      void transport.close();
      void server.close();
    });
    void server.connect(transport).then(() => transport.handleRequest(request, response));
  };
  const v4 = http.createServer(handler);
  await new Promise<void>((resolve) => v4.listen(0, "127.0.0.1", resolve));
  canary.port = (v4.address() as AddressInfo).port;
  // The same port on IPv6 loopback, so http://[::1]:<port>/ would reach the canary if it were let through.
  const v6 = http.createServer(handler);
  await new Promise<void>((resolve, reject) => v6.once("error", reject).listen(canary.port, "::1", resolve));
  const close = (server: http.Server) => new Promise<void>((resolve) => server.close(() => resolve()));
  return Object.assign(canary, {
    close: async () => {
      v4.closeAllConnections();
      v6.closeAllConnections();
      await Promise.all([close(v4), close(v6)]);
    },
  });
}

/** A "public" server (on 127.0.0.2, which the admin allow-lists) that redirects every request to `target`. */
async function startRedirector(target: () => string): Promise<{ port: number; hits: number; close(): Promise<void> }> {
  const state = { hits: 0, port: 0 };
  const server = http.createServer((request, response) => {
    state.hits += 1;
    response.writeHead(307, { location: target() }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.2", resolve));
  state.port = (server.address() as AddressInfo).port;
  return Object.assign(state, {
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

/** Stub DNS: evil.example is loopback; rebind.example answers a public address once, then loopback. */
function stubDns(): EgressLookup {
  let rebindAnswers = 0;
  return async (hostname) => {
    if (hostname === "evil.example") return [{ address: "127.0.0.1", family: 4 }];
    if (hostname === "metadata.example") return [{ address: "169.254.169.254", family: 4 }];
    if (hostname === "rebind.example") {
      rebindAnswers += 1;
      return [{ address: rebindAnswers === 1 ? PUBLIC_ADDRESS : "127.0.0.1", family: 4 }];
    }
    if (hostname === "public.example") return [{ address: PUBLIC_ADDRESS, family: 4 }];
    const lookedUp = await dns.promises.lookup(hostname, { all: true, verbatim: true });
    return lookedUp;
  };
}

interface Case {
  name: string;
  url: (port: number) => string;
  /** The message registration must refuse with (exact). */
  refusal: (port: number) => string;
  /** Needs the stub DNS: registered through the domain function with an injected resolver, not through tRPC. */
  viaDns?: boolean;
}

const schemeRefusal = "Enter an http:// or https:// URL, e.g. https://mcp.example.com/mcp.";

const CASES: Case[] = [
  { name: "cloud metadata", url: () => "http://169.254.169.254/latest/meta-data/", refusal: () => `169.254.169.254 is a link-local/cloud-metadata address; ${HINT}` },
  { name: "AWS IPv6 metadata", url: () => "http://[fd00:ec2::254]/", refusal: () => `fd00:ec2::254 is a unique-local/cloud-metadata address; ${HINT}` },
  { name: "IPv4-mapped metadata", url: () => "http://[::ffff:169.254.169.254]/", refusal: () => `::ffff:a9fe:a9fe embeds 169.254.169.254, a link-local/cloud-metadata address; ${HINT}` },
  { name: "IPv4-mapped metadata (hex)", url: () => "http://[::ffff:a9fe:a9fe]/", refusal: () => `::ffff:a9fe:a9fe embeds 169.254.169.254, a link-local/cloud-metadata address; ${HINT}` },
  { name: "NAT64 metadata", url: () => "http://[64:ff9b::a9fe:a9fe]/", refusal: () => `64:ff9b::a9fe:a9fe embeds 169.254.169.254, a link-local/cloud-metadata address; ${HINT}` },
  { name: "decimal IPv4", url: () => "http://2852039166/", refusal: () => `169.254.169.254 is a link-local/cloud-metadata address; ${HINT}` },
  { name: "hex IPv4", url: (p) => `http://0x7f.1:${p}/mcp`, refusal: () => `127.0.0.1 is a loopback address; ${HINT}` },
  { name: "octal IPv4", url: (p) => `http://0177.0.0.1:${p}/mcp`, refusal: () => `127.0.0.1 is a loopback address; ${HINT}` },
  { name: "loopback", url: (p) => `http://127.0.0.1:${p}/mcp`, refusal: () => `127.0.0.1 is a loopback address; ${HINT}` },
  { name: "unspecified", url: (p) => `http://0.0.0.0:${p}/mcp`, refusal: () => `0.0.0.0 is an unspecified (“this host”) address; ${HINT}` },
  { name: "private network", url: () => "http://10.0.0.1/mcp", refusal: () => `10.0.0.1 is a private network address; ${HINT}` },
  { name: "localhost", url: (p) => `http://localhost:${p}/mcp`, refusal: () => `localhost is a loopback name (this machine); ${HINT}` },
  { name: "localhost with root dot", url: (p) => `http://localhost.:${p}/mcp`, refusal: () => `localhost is a loopback name (this machine); ${HINT}` },
  { name: "IPv6 loopback", url: (p) => `http://[::1]:${p}/mcp`, refusal: () => `::1 is a loopback address; ${HINT}` },
  { name: "name resolving to loopback", url: (p) => `http://evil.example:${p}/mcp`, refusal: () => `evil.example resolves to 127.0.0.1, a loopback address; ${HINT}`, viaDns: true },
  { name: "name resolving to metadata", url: () => "http://metadata.example/latest/meta-data/", refusal: () => `metadata.example resolves to 169.254.169.254, a link-local/cloud-metadata address; ${HINT}`, viaDns: true },
  { name: "file scheme", url: () => "file:///etc/passwd", refusal: () => schemeRefusal },
  { name: "gopher scheme", url: (p) => `gopher://127.0.0.1:${p}/_GET%20/`, refusal: () => schemeRefusal },
  { name: "ftp scheme", url: (p) => `ftp://127.0.0.1:${p}/`, refusal: () => schemeRefusal },
  { name: "data scheme", url: () => "data:text/plain,hello", refusal: () => schemeRefusal },
];

describe("SSRF: tool servers at internal addresses [postgresql]", () => {
  let handle: TestDatabase;
  let db: Db;
  let org: TestOrg;
  let other: TestOrg;
  let canary: Canary;
  let redirector: Awaited<ReturnType<typeof startRedirector>>;
  let pool: McpClientPool;
  const lookup = stubDns();
  const counts = {
    "registration attempts": 0,
    "registrations refused": 0,
    "connection attempts": 0,
    "connections refused": 0,
    "canary hits from refused cases": 0,
    "allow-listed connections": 0,
  };
  let serial = 0;
  const serverName = (label: string) => `${label.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 30)}-${(serial += 1)}`;

  beforeAll(async () => {
    handle = await openTestDatabase("postgresql");
    db = handle.db;
    org = await createTestOrg(db, "ssrf");
    other = await createTestOrg(db, "ssrf-other");
    canary = await startCanary();
    redirector = await startRedirector(() => `http://127.0.0.1:${canary.port}/mcp`);
    pool = new McpClientPool({ lookup, connectTimeoutMs: 5_000 });
  });

  afterAll(async () => {
    await pool?.closeAll();
    await redirector?.close();
    await canary?.close();
    await handle?.close();
    recordSecurityCounts("ssrf", { attempted: counts["registration attempts"] + counts["connection attempts"], blocked: counts["registrations refused"] + counts["connections refused"], ...counts });
  });

  const admin = () => org.principals.ADMIN;
  const adminCaller = () => createCaller({ db, principal: admin() });

  /** Registers as the org admin: through tRPC, or through the domain function when the case needs the stub DNS. */
  async function register(label: string, url: string, viaDns: boolean) {
    const input = { transport: "HTTP" as const, name: serverName(label), url };
    return viaDns ? registerToolServer(db, admin(), input, { lookup }) : adminCaller().tools.register(input);
  }

  /** A server row saved without the registration check (before the guard existed), refreshed through the pool. */
  async function connectToExistingRow(label: string, url: string) {
    const row = await db.toolServer.create({ data: { orgId: org.orgId, name: serverName(`row-${label}`), transport: "HTTP", url } });
    counts["connection attempts"] += 1;
    const result = await refreshToolServer(db, admin(), row.id, { mcp: pool, encryptionKey });
    if (!result.ok) counts["connections refused"] += 1;
    return { row, result };
  }

  it.each(CASES)("refuses to register $name", async (testCase) => {
    const before = canary.hits;
    const url = testCase.url(canary.port);
    counts["registration attempts"] += 1;
    const error = await register(testCase.name, url, testCase.viaDns === true).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error, `${url} was registered`).not.toBeNull();
    if (error) counts["registrations refused"] += 1;
    const code = error instanceof DomainError ? error.code : (error as { code?: string }).code;
    expect(["INVALID_INPUT", "BAD_REQUEST"]).toContain(code);
    const expected = testCase.refusal(canary.port);
    // tRPC's input schema refuses other schemes first and prefixes the field ("url: …").
    if (expected === schemeRefusal) expect((error as Error).message).toContain(expected);
    else expect((error as Error).message).toBe(expected);
    counts["canary hits from refused cases"] += canary.hits - before;
    expect(canary.hits - before).toBe(0);
  });

  it.each(CASES)("refuses to connect to $name", async (testCase) => {
    const before = canary.hits;
    const { result } = await connectToExistingRow(testCase.name, testCase.url(canary.port));
    counts["canary hits from refused cases"] += canary.hits - before;
    expect(result.ok).toBe(false);
    expect(result.error?.startsWith(`Switchboard refused to connect to tool server "${result.server.name}": `)).toBe(true);
    expect(result.server.status).toBe("ERROR");
    const expected = testCase.refusal(canary.port);
    expect(result.error).toContain(expected === schemeRefusal ? "URLs are not allowed: Switchboard reaches tool servers over http:// or https:// only." : expected);
    expect(canary.hits - before).toBe(0);
  });

  it("refuses this machine's own host name, resolved by the system resolver", async (context) => {
    const hostname = os.hostname().toLowerCase();
    const addresses = await dns.promises.lookup(hostname, { all: true }).catch(() => []);
    // Real DNS, no stub: meaningful only where the host name resolves to an internal address (loopback here).
    if (!addresses.some((a) => classifyAddress(a.address) !== null)) context.skip(`${hostname} does not resolve to an internal address here`);
    const before = canary.hits;
    counts["registration attempts"] += 1;
    const refused = await adminCaller()
      .tools.register({ transport: "HTTP", name: serverName("own-hostname"), url: `http://${hostname}:${canary.port}/mcp` })
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(refused).toMatchObject({ code: "BAD_REQUEST" });
    expect((refused as Error).message).toContain(`${hostname} resolves to `);
    counts["registrations refused"] += 1;
    const plainPool = new McpClientPool({ connectTimeoutMs: 5_000 });
    try {
      const row = await db.toolServer.create({ data: { orgId: org.orgId, name: serverName("row-own-hostname"), transport: "HTTP", url: `http://${hostname}:${canary.port}/mcp` } });
      counts["connection attempts"] += 1;
      const result = await refreshToolServer(db, admin(), row.id, { mcp: plainPool, encryptionKey });
      expect(result.error).toContain(`${hostname} resolves to `);
      counts["connections refused"] += 1;
    } finally {
      await plainPool.closeAll();
    }
    counts["canary hits from refused cases"] += canary.hits - before;
    expect(canary.hits - before).toBe(0);
  });

  it("refuses a name that rebinds to loopback after it was registered", async () => {
    const before = canary.hits;
    const url = `http://rebind.example:${canary.port}/mcp`;
    // First answer: a public address, so registration accepts it (and nothing is contacted at registration).
    const server = await registerToolServer(db, admin(), { transport: "HTTP", name: serverName("rebind"), url }, { lookup });
    counts["connection attempts"] += 1;
    const result = await refreshToolServer(db, admin(), server.id, { mcp: pool, encryptionKey });
    counts["canary hits from refused cases"] += canary.hits - before;
    expect(result.ok).toBe(false);
    if (!result.ok) counts["connections refused"] += 1;
    expect(result.error).toBe(`Switchboard refused to connect to tool server "${server.name}": rebind.example resolves to 127.0.0.1, a loopback address; ${HINT}`);
    expect(canary.hits - before).toBe(0);
  });

  it("refuses a redirect from an allow-listed server to the canary", async () => {
    await adminCaller().policies.governance.update({ ...(await adminCaller().policies.governance.get()), egressAllowHosts: ["127.0.0.2"] });
    const before = canary.hits;
    const redirectsBefore = redirector.hits;
    const url = `http://127.0.0.2:${redirector.port}/mcp`;
    const server = await adminCaller().tools.register({ transport: "HTTP", name: serverName("redirect"), url });
    counts["connection attempts"] += 1;
    const result = await refreshToolServer(db, admin(), server.id, { mcp: pool, encryptionKey });
    expect(result.ok).toBe(false);
    if (!result.ok) counts["connections refused"] += 1;
    expect(result.error).toContain(`Redirect to http://127.0.0.1:${canary.port}/mcp not followed`);
    expect(redirector.hits - redirectsBefore).toBeGreaterThan(0);

    // The guarded fetch itself, told to follow redirects: it judges the target like a new request.
    const follow = createEgressFetch({ allowHosts: ["127.0.0.2"] });
    counts["connection attempts"] += 1;
    await expect(follow(url, { method: "POST", body: "{}" })).rejects.toThrow(
      new EgressRefused(`Redirect from http://127.0.0.2:${redirector.port} refused: 127.0.0.1 is a loopback address; ${HINT}`, "127.0.0.1"),
    );
    counts["connections refused"] += 1;
    follow.close();
    counts["canary hits from refused cases"] += canary.hits - before;
    expect(canary.hits - before).toBe(0);
  });

  it("refuses to move an allowed server to an internal address", async () => {
    const server = await registerToolServer(db, admin(), { transport: "HTTP", name: serverName("moving"), url: "http://public.example/mcp" }, { lookup });
    counts["registration attempts"] += 1;
    await expect(
      updateToolServer(db, admin(), { id: server.id, transport: "HTTP", name: server.name, url: "http://[::ffff:7f00:1]/mcp" }, { lookup }),
    ).rejects.toMatchObject({ code: "INVALID_INPUT", message: `::ffff:7f00:1 embeds 127.0.0.1, a loopback address; ${HINT}`, fieldErrors: { url: [expect.any(String)] } });
    counts["registrations refused"] += 1;
    expect((await getToolServer(db, admin(), server.id)).url).toBe("http://public.example/mcp");
  });

  it("validates the allow-list and audits it as a governance setting", async () => {
    const current = await adminCaller().policies.governance.get();
    await expect(adminCaller().policies.governance.update({ ...current, egressAllowHosts: ["http://127.0.0.1:8080/"] })).rejects.toMatchObject({
      code: "BAD_REQUEST",
      message: "“http://127.0.0.1:8080/” is not a host name, IP address or CIDR range. Write one per line without scheme, port or path, e.g. mcp.internal, 10.0.0.5 or 10.0.0.0/24.",
    });
    await expect(createCaller({ db, principal: org.principals.SUPERVISOR }).policies.governance.update({ ...current, egressAllowHosts: ["127.0.0.1"] })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    const saved = await adminCaller().policies.governance.update({ ...current, egressAllowHosts: ["0x7f.1", "[::1]", "LocalHost.", "10.0.0.0/8", "127.0.0.1"] });
    expect(saved.egressAllowHosts).toEqual(["127.0.0.1", "::1", "localhost", "10.0.0.0/8"]);
    const audit = await db.auditEvent.findFirst({ where: { orgId: org.orgId, action: "governance.updated" }, orderBy: { seq: "desc" } });
    expect(audit).toMatchObject({ actorType: "USER", actorId: admin().userId, data: { egressAllowHosts: saved.egressAllowHosts } });
    await adminCaller().policies.governance.update({ ...current, egressAllowHosts: [] });
  });

  it("connects to the canary once the admin allow-lists it, and only for that org", async () => {
    const url = `http://127.0.0.1:${canary.port}/mcp`;
    const current = await adminCaller().policies.governance.get();
    await adminCaller().policies.governance.update({ ...current, egressAllowHosts: ["127.0.0.1"] });

    const server = await adminCaller().tools.register({ transport: "HTTP", name: serverName("canary"), url });
    const before = canary.hits;
    const result = await refreshToolServer(db, admin(), server.id, { mcp: pool, encryptionKey });
    expect(result).toMatchObject({ ok: true, error: null, added: ["canary_ping"] });
    expect(result.server.status).toBe("CONNECTED");
    expect(canary.hits - before).toBeGreaterThan(0);
    counts["allow-listed connections"] += 1;

    // Another org's allow-list is its own: the same URL is still refused there.
    await expect(
      createCaller({ db, principal: other.principals.ADMIN }).tools.register({ transport: "HTTP", name: "canary", url }),
    ).rejects.toMatchObject({ code: "BAD_REQUEST", message: `127.0.0.1 is a loopback address; ${HINT}` });

    // Taking the host off the list ends it: the next connection is refused again.
    await adminCaller().policies.governance.update({ ...current, egressAllowHosts: [] });
    const hitsAfterRemoval = canary.hits;
    counts["connection attempts"] += 1;
    const again = await refreshToolServer(db, admin(), server.id, { mcp: pool, encryptionKey });
    expect(again.ok).toBe(false);
    if (!again.ok) counts["connections refused"] += 1;
    expect(again.error).toContain(`127.0.0.1 is a loopback address; ${HINT}`);
    expect(canary.hits).toBe(hitsAfterRemoval);
  });
});
