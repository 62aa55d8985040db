type RouteHandler = (req: Request, ctx: { params: Promise<Record<string, string>> }) => Promise<Response>;

/** Calls a REST route handler directly, as Next.js would, with an API key. */
export function callRest(handler: RouteHandler, key: string, params: Record<string, string> = {}, init: RequestInit & { path?: string } = {}): Promise<Response> {
  const request = new Request(`http://localhost${init.path ?? "/api/v1/x"}`, {
    ...init,
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json", ...init.headers },
  });
  return handler(request, { params: Promise.resolve(params) });
}
