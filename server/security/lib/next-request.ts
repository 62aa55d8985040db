import { AsyncLocalStorage } from "node:async_hooks";
import type * as NextServerModuleNamespace from "next/server";

type NextServerModule = typeof NextServerModuleNamespace;

/**
 * Runs a route handler the way `next start` does: inside Next's work and request stores, so `cookies()` and
 * `headers()` (next-auth, `getServerSession`) read this request. This is Next's own request plumbing
 * (next/dist/server), not a stand-in; only the HTTP server and router in front of it are skipped.
 */
type RouteHandler<P> = (request: Request, context: { params: Promise<P> }) => Promise<Response>;

let ready: Promise<NextServerModule> | undefined;

function nextServer() {
  // Next's node runtime provides AsyncLocalStorage globally before any of its modules load.
  const holder = globalThis as { AsyncLocalStorage?: typeof AsyncLocalStorage };
  holder.AsyncLocalStorage ??= AsyncLocalStorage;
  ready ??= import("next/server");
  return ready;
}

export async function callNextRoute<P extends object>(handler: RouteHandler<P>, page: string, url: string, init: RequestInit = {}, params = {} as P): Promise<Response> {
  const { NextRequest } = await nextServer();
  const { createRequestStoreForAPI } = await import("next/dist/server/async-storage/request-store");
  const { createWorkStore } = await import("next/dist/server/async-storage/work-store");
  const { workAsyncStorage } = await import("next/dist/server/app-render/work-async-storage.external");
  const { workUnitAsyncStorage } = await import("next/dist/server/app-render/work-unit-async-storage.external");
  const request = new NextRequest(url, init as ConstructorParameters<typeof NextRequest>[1]);
  const workStore = createWorkStore({ page, renderOpts: { experimental: {} }, isPrefetchRequest: false, buildId: "security-test", previouslyRevalidatedTags: [] } as unknown as Parameters<typeof createWorkStore>[0]);
  const requestStore = createRequestStoreForAPI(
    ...([request, request.nextUrl, undefined, undefined, undefined, undefined] as unknown as Parameters<typeof createRequestStoreForAPI>),
  );
  return workAsyncStorage.run(workStore, () => workUnitAsyncStorage.run(requestStore, () => handler(request, { params: Promise.resolve(params) })));
}

/** Set-Cookie lines of a response, parsed: name → { value, attributes (lower-cased names) }. */
export function setCookies(response: Response): Map<string, { value: string; attributes: Map<string, string> }> {
  const cookies = new Map<string, { value: string; attributes: Map<string, string> }>();
  for (const line of response.headers.getSetCookie()) {
    const [pair = "", ...rest] = line.split(";").map((part) => part.trim());
    const separator = pair.indexOf("=");
    const attributes = new Map(
      rest.map((attribute) => {
        const at = attribute.indexOf("=");
        return at < 0 ? [attribute.toLowerCase(), ""] : [attribute.slice(0, at).toLowerCase(), attribute.slice(at + 1)];
      }),
    );
    cookies.set(pair.slice(0, separator), { value: decodeURIComponent(pair.slice(separator + 1)), attributes });
  }
  return cookies;
}
