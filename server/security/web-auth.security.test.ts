import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GET as auditExport } from "@/app/api/audit/export/route";
import { GET as nextAuthGet, POST as nextAuthPost } from "@/app/api/auth/[...nextauth]/route";
import { GET as trpcGet, POST as trpcPost } from "@/app/api/trpc/[trpc]/route";
import { GET as restMe } from "@/app/api/v1/me/route";
import { POST as restCreateApiKey } from "@/app/api/v1/api-keys/route";
import { overrideDatabaseForTests, type Db } from "../db";
import { hashPassword } from "../domain/identity/passwords";
import { resetSignInLimits } from "../domain/identity/sign-in";
import { openTestDatabase, type TestDatabase } from "../testing/databases";
import { createTestOrg, type TestOrg } from "../testing/fixtures";
import { recordSecurityCounts } from "./report";
import { callNextRoute, setCookies } from "./lib/next-request";

/**
 * The browser side: the real next-auth route handler signs in with email and password and sets the session
 * cookie; the real tRPC route handler reads it. Both run inside Next's own request stores (callNextRoute), with no
 * middleware in front: every handler must authorize by itself.
 */
const ORIGIN = "http://localhost:3000";
const PASSWORD = "correct horse battery staple 9!";
const MIDDLEWARE_BYPASS = { "x-middleware-subrequest": "middleware:middleware:middleware:middleware:middleware" };

describe("web authentication [pglite]", () => {
  let handle: TestDatabase;
  let db: Db;
  let org: TestOrg;
  const counts = { "web auth checks passed": 0, "web auth checks total": 0 };
  const originalNextAuthUrl = process.env.NEXTAUTH_URL;

  beforeAll(async () => {
    handle = await openTestDatabase("pglite");
    db = handle.db;
    overrideDatabaseForTests(db, { kind: "pglite", dataDir: "memory://" });
    org = await createTestOrg(db, "webauth");
    await db.user.update({ where: { id: org.principals.OWNER.userId }, data: { passwordHash: await hashPassword(PASSWORD) } });
    process.env.NEXTAUTH_URL = ORIGIN;
  }, 300_000);

  afterAll(async () => {
    process.env.NEXTAUTH_URL = originalNextAuthUrl;
    recordSecurityCounts("web-auth", counts);
    await handle?.close();
  });

  const check = async (body: () => Promise<void>) => {
    counts["web auth checks total"] += 1;
    await body();
    counts["web auth checks passed"] += 1;
  };

  const cookieHeader = (cookies: Record<string, string>) =>
    Object.entries(cookies)
      .map(([name, value]) => `${name}=${encodeURIComponent(value)}`)
      .join("; ");

  function nextAuth(action: string[], init: RequestInit = {}, base = ORIGIN) {
    const handler = init.method === "POST" ? nextAuthPost : nextAuthGet;
    return callNextRoute(handler, "/api/auth/[...nextauth]/route", `${base}/api/auth/${action.join("/")}`, init, { nextauth: action });
  }

  /** The browser's sign-in: fetch a CSRF token, post the credentials form. Returns the Set-Cookie result. */
  async function signIn(options: { base?: string; presetCookies?: Record<string, string> } = {}) {
    resetSignInLimits();
    const base = options.base ?? ORIGIN;
    const csrf = await nextAuth(["csrf"], {}, base);
    const { csrfToken } = (await csrf.json()) as { csrfToken: string };
    const jar: Record<string, string> = { ...options.presetCookies };
    for (const [name, cookie] of setCookies(csrf)) jar[name] = cookie.value;
    const response = await nextAuth(
      ["callback", "credentials"],
      {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookieHeader(jar), origin: base },
        body: new URLSearchParams({ csrfToken, email: org.principals.OWNER.email, password: PASSWORD, callbackUrl: base, json: "true" }),
      },
      base,
    );
    return { response, csrfToken, jar };
  }

  function trpc(pathAndQuery: string, init: RequestInit = {}) {
    const handler = init.method === "POST" ? trpcPost : trpcGet;
    return callNextRoute(handler, "/api/trpc/[trpc]/route", `${ORIGIN}/api/trpc/${pathAndQuery}`, { ...init, headers: { host: "localhost:3000", ...init.headers } }, { trpc: pathAndQuery.split("?")[0]! });
  }

  it("sets the session cookie httpOnly and SameSite=Lax at sign-in, and Secure (__Secure-) behind https", async () => {
    await check(async () => {
      const { response } = await signIn();
      const session = setCookies(response).get("next-auth.session-token");
      expect(session, "no session cookie after a correct sign-in").toBeDefined();
      expect(session!.attributes.has("httponly")).toBe(true);
      expect(session!.attributes.get("samesite")?.toLowerCase()).toBe("lax");
      expect(session!.attributes.get("path")).toBe("/");
    });
    await check(async () => {
      process.env.NEXTAUTH_URL = "https://switchboard.example";
      try {
        const { response } = await signIn({ base: "https://switchboard.example" });
        const session = setCookies(response).get("__Secure-next-auth.session-token");
        expect(session, "production (https) sign-in must set a __Secure- cookie").toBeDefined();
        expect(session!.attributes.has("secure")).toBe(true);
        expect(session!.attributes.has("httponly")).toBe(true);
      } finally {
        process.env.NEXTAUTH_URL = ORIGIN;
      }
    });
  });

  it("issues a new session at sign-in: a session cookie planted before sign-in is not kept (fixation)", async () => {
    await check(async () => {
      const first = setCookies((await signIn()).response).get("next-auth.session-token")!.value;
      const planted = { "next-auth.session-token": first };
      const second = setCookies((await signIn({ presetCookies: planted })).response).get("next-auth.session-token");
      expect(second?.value).toBeDefined();
      expect(second!.value).not.toBe(first);
      const forged = await trpc("me.get", { headers: { cookie: cookieHeader({ "next-auth.session-token": "attacker-chosen-value" }) } });
      expect(forged.status).toBe(401);
    });
  });

  it("lets the session cookie call tRPC, and refuses a mutation from a foreign Origin", async () => {
    const { response } = await signIn();
    const cookie = cookieHeader({ "next-auth.session-token": setCookies(response).get("next-auth.session-token")!.value });
    await check(async () => {
      const me = await trpc("me.get", { headers: { cookie } });
      expect(me.status).toBe(200);
      expect(JSON.stringify(await me.json())).toContain(org.principals.OWNER.email);
    });
    const mutation = (origin: string) =>
      trpc("inbox.markRead", { method: "POST", headers: { cookie, origin, "content-type": "application/json" }, body: JSON.stringify({ json: { id: "no-such-item" } }) });
    await check(async () => {
      const foreign = await mutation("https://evil.example");
      expect(foreign.status).toBe(403);
      expect(JSON.stringify(await foreign.json())).toContain("Cross-site request refused");
      expect((await mutation("null")).status).toBe(403);
    });
    await check(async () => {
      // Same origin reaches the procedure (404: the item does not exist), proving the refusal above was the Origin.
      expect((await mutation(ORIGIN)).status).toBe(404);
    });
    await check(async () => {
      // REST never reads cookies: a cookie-only POST is unauthenticated, so there is no cross-site surface.
      const response = await callNextRoute(restCreateApiKey, "/api/v1/api-keys/route", `${ORIGIN}/api/v1/api-keys`, {
        method: "POST",
        headers: { cookie, origin: "https://evil.example", "content-type": "application/json" },
        body: JSON.stringify({ name: "csrf", scopes: ["runs:read"] }),
      });
      expect(response.status).toBe(401);
    });
  });

  it("authorizes in every handler, not in middleware: no credentials (and a middleware-bypass header) is 401", async () => {
    const hasMiddleware = ["middleware.ts", "proxy.ts"].some((file) => fs.existsSync(path.resolve(import.meta.dirname, "../..", file)));
    const calls: [string, () => Promise<Response>][] = [
      ["tRPC me.get", () => trpc("me.get", { headers: MIDDLEWARE_BYPASS })],
      ["tRPC apiKeys.list", () => trpc("apiKeys.list", { headers: MIDDLEWARE_BYPASS })],
      ["tRPC apiKeys.create", () => trpc("apiKeys.create", { method: "POST", headers: { ...MIDDLEWARE_BYPASS, origin: ORIGIN, "content-type": "application/json" }, body: JSON.stringify({ json: { name: "x", scopes: ["runs:read"] } }) })],
      ["audit export", () => callNextRoute(auditExport, "/api/audit/export/route", `${ORIGIN}/api/audit/export`, { headers: MIDDLEWARE_BYPASS })],
      ["REST /api/v1/me", () => callNextRoute(restMe, "/api/v1/me/route", `${ORIGIN}/api/v1/me`, { headers: MIDDLEWARE_BYPASS })],
    ];
    for (const [name, call] of calls) {
      await check(async () => {
        const response = await call();
        expect([401, 403], `${name} answered ${response.status} without credentials (middleware present: ${hasMiddleware})`).toContain(response.status);
      });
    }
  });

  it("clears the cookie at sign-out; a replayed JWT stays valid until it expires, but a revoked member is locked out at once", async () => {
    const { response, jar } = await signIn();
    const token = setCookies(response).get("next-auth.session-token")!.value;
    const cookies = { ...jar, "next-auth.session-token": token };
    const csrf = (await (await nextAuth(["csrf"], { headers: { cookie: cookieHeader(cookies) } })).json()) as { csrfToken: string };
    await check(async () => {
      const signOut = await nextAuth(["signout"], {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookieHeader(cookies), origin: ORIGIN },
        body: new URLSearchParams({ csrfToken: csrf.csrfToken, callbackUrl: ORIGIN, json: "true" }),
      });
      const cleared = setCookies(signOut).get("next-auth.session-token");
      expect(cleared, "sign-out must clear the session cookie").toBeDefined();
      expect(cleared!.value).toBe("");
    });
    const replay = () => trpc("me.get", { headers: { cookie: cookieHeader({ "next-auth.session-token": token }) } });
    await check(async () => {
      // Sessions are stateless JWTs (credentials sign-in requires them): a copy of the cookie taken before
      // sign-out still authenticates until it expires (12 h). What it carries is only the user id...
      expect((await replay()).status).toBe(200);
    });
    await check(async () => {
      // ...and permissions are read from the database on every request, so revoking the membership ends it now.
      await db.membership.updateMany({ where: { orgId: org.orgId, userId: org.principals.OWNER.userId }, data: { revokedAt: new Date() } });
      try {
        expect((await replay()).status).toBe(401);
      } finally {
        await db.membership.updateMany({ where: { orgId: org.orgId, userId: org.principals.OWNER.userId }, data: { revokedAt: null } });
      }
    });
  });
});
