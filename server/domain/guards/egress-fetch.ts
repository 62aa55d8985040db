import http from "node:http";
import https from "node:https";
import { Readable } from "node:stream";
import type { ReadableStream as NodeReadableStream } from "node:stream/web";
import { checkUrl, EgressRefused, pinnedLookup, type EgressPolicy } from "./egress";

/**
 * A fetch whose every connection goes through the egress guard: the URL is judged before the request, a host
 * name is resolved by `pinnedLookup` (the socket connects to the address that was judged, never to a second DNS
 * answer), and a redirect is judged again as a new request. Built on node:http/https because Node 20's fetch
 * (undici) offers no per-request DNS hook without the undici package.
 *
 * Supports what the MCP transport uses: string or byte bodies, streaming responses (server-sent events), abort
 * signals and the three redirect modes. Responses are not decompressed, so no Accept-Encoding is sent.
 */

export interface EgressFetch {
  (input: string | URL, init?: RequestInit): Promise<Response>;
  /** Closes the kept-alive sockets of this fetch (call when the connection that used it is closed). */
  close(): void;
}

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const NULL_BODY_STATUSES = new Set([204, 205, 304]);

function bodyBytes(body: RequestInit["body"]): Buffer | null {
  if (body === undefined || body === null) return null;
  if (typeof body === "string") return Buffer.from(body, "utf8");
  if (body instanceof URLSearchParams) return Buffer.from(body.toString(), "utf8");
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  throw new TypeError("This fetch sends string or byte bodies only.");
}

function requestHeaders(init: RequestInit | undefined, body: Buffer | null): Record<string, string> {
  const headers: Record<string, string> = {};
  new Headers(init?.headers).forEach((value, key) => {
    headers[key] = value;
  });
  if (body) headers["content-length"] = String(body.byteLength);
  headers["accept-encoding"] = "identity";
  return headers;
}

function contentHeaders(headers: HeadersInit | undefined): Record<string, string> {
  const kept: Record<string, string> = {};
  new Headers(headers).forEach((value, key) => {
    if (key === "accept" || key === "content-type") kept[key] = value;
  });
  return kept;
}

function abortError(signal: AbortSignal): Error {
  return signal.reason instanceof Error ? signal.reason : new DOMException("This operation was aborted", "AbortError");
}

export function createEgressFetch(policy: EgressPolicy): EgressFetch {
  const lookup = pinnedLookup(policy);
  // Sockets are kept alive per fetch (one per tool server connection) and never shared with other code.
  const agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };

  function once(url: URL, init: RequestInit | undefined): Promise<Response> {
    const checked = checkUrl(url, policy.allowHosts);
    const signal = init?.signal ?? undefined;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    const body = bodyBytes(init?.body);
    const secure = url.protocol === "https:";
    const options: https.RequestOptions = {
      protocol: url.protocol,
      hostname: checked.literal ? checked.host : url.hostname,
      port: url.port === "" ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: (init?.method ?? "GET").toUpperCase(),
      headers: requestHeaders(init, body),
      agent: secure ? agents.https : agents.http,
      // IP-address hosts never reach lookup (Node connects directly); checkUrl judged them above.
      lookup,
      ...(signal ? { signal } : {}),
    };
    return new Promise<Response>((resolve, reject) => {
      const request = (secure ? https : http).request(options, (incoming) => {
        const status = incoming.statusCode ?? 0;
        if (status < 200 || status > 599) {
          incoming.destroy();
          reject(new Error(`Unexpected HTTP status ${status}`));
          return;
        }
        const headers = new Headers();
        const raw = incoming.rawHeaders;
        for (let i = 0; i + 1 < raw.length; i += 2) {
          try {
            headers.append(raw[i] ?? "", raw[i + 1] ?? "");
          } catch {
            // a header the Fetch API cannot represent is dropped, as fetch itself does
          }
        }
        const empty = NULL_BODY_STATUSES.has(status) || options.method === "HEAD";
        if (empty) incoming.resume();
        const stream = empty ? null : (Readable.toWeb(incoming) as NodeReadableStream<Uint8Array>);
        resolve(new Response(stream as ReadableStream<Uint8Array> | null, { status, statusText: incoming.statusMessage ?? "", headers }));
      });
      request.on("error", (error) => {
        if (signal?.aborted) reject(abortError(signal));
        else if (error instanceof EgressRefused) reject(error);
        // The shape fetch uses, so callers read the reason (ECONNREFUSED, ENOTFOUND…) from `cause` as before.
        else reject(new TypeError("fetch failed", { cause: error }));
      });
      request.end(body ?? undefined);
    });
  }

  async function egressFetch(input: string | URL, init?: RequestInit): Promise<Response> {
    let url = new URL(input);
    let current = init;
    const mode = init?.redirect ?? "follow";
    for (let hop = 0; ; hop += 1) {
      const response = await once(url, current);
      const location = REDIRECT_STATUSES.has(response.status) ? response.headers.get("location") : null;
      if (!location || mode === "manual") return response;
      await response.body?.cancel();
      if (mode === "error") throw new TypeError(`Redirect from ${url.origin} refused (redirect: "error")`);
      if (hop >= MAX_REDIRECTS) throw new TypeError(`More than ${MAX_REDIRECTS} redirects from ${url.origin}`);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new TypeError(`Invalid redirect location from ${url.origin}`);
      }
      // The next hop is judged like a new request (once → checkUrl, pinned lookup); refused targets say so.
      try {
        checkUrl(next, policy.allowHosts);
      } catch (error) {
        if (error instanceof EgressRefused) throw new EgressRefused(`Redirect from ${url.origin} refused: ${error.message}`, error.host);
        throw error;
      }
      // As fetch does: 303, and 301/302 after a POST, become a GET without a body.
      const method = (current?.method ?? "GET").toUpperCase();
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === "POST")) {
        current = { ...current, method: "GET", body: null };
      }
      // Headers may carry a tool server's secrets (API keys): another origin gets only content negotiation.
      if (next.origin !== url.origin) current = { ...current, headers: contentHeaders(current?.headers) };
      url = next;
    }
  }

  return Object.assign(egressFetch, {
    close() {
      agents.http.destroy();
      agents.https.destroy();
    },
  });
}
