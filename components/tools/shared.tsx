import type { inferRouterOutputs } from "@trpc/server";
import type { SVGProps } from "react";
import { Badge, type BadgeTone } from "@/components/ui";
import type { AppRouter } from "@/server/trpc/root";

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type ToolServerRow = RouterOutputs["tools"]["list"][number];
export type ToolServerDetail = RouterOutputs["tools"]["byId"];
export type ToolRow = ToolServerDetail["tools"][number];
export type SecretRow = RouterOutputs["tools"]["secrets"]["list"][number];

export const RISKS = ["READ", "WRITE", "EXTERNAL"] as const;
export type Risk = (typeof RISKS)[number];

export const RISK_LABELS: Record<Risk, string> = { READ: "Read", WRITE: "Write", EXTERNAL: "External" };
export const RISK_HINTS: Record<Risk, string> = {
  READ: "Only reads: no side effects.",
  WRITE: "Changes data inside your systems.",
  EXTERNAL: "Reaches people or systems outside: emails, payments, posts.",
};
const RISK_TONES: Record<Risk, BadgeTone> = { READ: "info", WRITE: "warning", EXTERNAL: "danger" };

export function ToolRiskBadge({ risk }: { risk: string | null }) {
  if (!risk) {
    return (
      <Badge tone="neutral" className="border border-dashed border-gray-300 bg-transparent ring-0" title="Nobody has classified this tool yet; agents cannot call it until someone does.">
        unclassified
      </Badge>
    );
  }
  return <Badge tone={RISK_TONES[risk as Risk] ?? "neutral"} title={RISK_HINTS[risk as Risk]}>{risk.toLowerCase()}</Badge>;
}

const SERVER_STATUS: Record<string, { tone: BadgeTone; label: string; hint: string }> = {
  CONNECTED: { tone: "success", label: "Connected", hint: "The last refresh reached the server and listed its tools." },
  ERROR: { tone: "danger", label: "Error", hint: "The last refresh could not reach the server." },
  UNKNOWN: { tone: "neutral", label: "Not checked", hint: "Nobody has refreshed this server since it was registered or changed." },
  DISABLED: { tone: "neutral", label: "Disabled", hint: "Agents cannot use any of its tools." },
};

export function ServerStatusBadge({ status }: { status: string }) {
  const s = SERVER_STATUS[status] ?? { tone: "neutral" as const, label: status.toLowerCase(), hint: "" };
  return (
    <Badge tone={s.tone} dot title={s.hint}>
      {s.label}
    </Badge>
  );
}

export function ToolStatusBadge({ status }: { status: string }) {
  if (status === "ACTIVE") return <Badge tone="success" dot>active</Badge>;
  if (status === "PENDING_REVIEW") {
    return (
      <Badge tone="warning" dot title="The server changed this tool's definition since it was approved. It cannot be called until an admin reviews the change.">
        needs review
      </Badge>
    );
  }
  return <Badge tone="neutral" title="The server no longer offers this tool.">removed</Badge>;
}

export function TransportBadge({ transport }: { transport: string }) {
  return (
    <span className="inline-flex h-5 items-center rounded border border-border px-1.5 font-mono text-[11px] leading-none text-fg-muted uppercase">
      {transport === "HTTP" ? "http" : "stdio"}
    </span>
  );
}

/**
 * A command line short enough for a table: long absolute paths keep only their last two segments
 * (`/srv/app/node_modules/@x/server/dist/index.js` → `…/dist/index.js`). The full line goes in a tooltip.
 */
export function shortCommandLine(command: string | null, args: readonly string[]): string {
  const shorten = (token: string): string => {
    const assignment = /^(--?[A-Za-z-]+=|[A-Za-z_][A-Za-z0-9_]*=)(.*)$/.exec(token);
    if (assignment?.[1] && assignment[2]) return assignment[1] + shorten(assignment[2]);
    if (!token.startsWith("/")) return token;
    if (/\/tsx\/dist\/(loader|esm\/index)\.m?js$/.test(token)) return "tsx";
    const parts = token.split("/").filter(Boolean);
    if (parts.length <= 3) return token;
    const tail = parts.slice(-2);
    // A package entry point says more than "dist/index.js".
    if (tail[0] === "dist" && parts.length >= 3) return `…/${parts.slice(-3).join("/")}`;
    return `…/${tail.join("/")}`;
  };
  const program = command ? (command.startsWith("/") ? (command.split("/").pop() ?? command) : command) : "";
  return [program, ...args.map(shorten)].filter(Boolean).join(" ");
}

/**
 * A server's last error without the parts the row already shows (its name, its URL): "Could not reach the
 * server: host not found" reads better next to the server's name than the full sentence the logs keep.
 */
export function conciseError(message: string, server: { name: string; url: string | null }): string {
  let text = message.replace(`Tool server "${server.name}" `, "").replace(`tool server "${server.name}"`, "the server");
  if (server.url) text = text.replace(` at ${server.url}`, "");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

export function fullCommandLine(command: string | null, args: readonly string[]): string {
  return [command ?? "", ...args.map((arg) => (/\s/.test(arg) ? JSON.stringify(arg) : arg))].join(" ").trim();
}

export function formatMs(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1).replace(/\.0$/, "")} MB`;
}

/** Parameters of a JSON-Schema object, for a one-line summary of what a tool takes. */
export function parametersOf(schema: unknown): { name: string; type: string; required: boolean }[] {
  if (!schema || typeof schema !== "object") return [];
  const { properties, required } = schema as { properties?: Record<string, { type?: unknown }>; required?: unknown };
  if (!properties || typeof properties !== "object") return [];
  const requiredSet = new Set(Array.isArray(required) ? required.filter((r): r is string => typeof r === "string") : []);
  return Object.entries(properties).map(([name, prop]) => ({
    name,
    type: Array.isArray(prop?.type) ? prop.type.join(" | ") : typeof prop?.type === "string" ? prop.type : "any",
    required: requiredSet.has(name),
  }));
}

export function IconRefresh({ className, ...props }: SVGProps<SVGSVGElement>) {
  return (
    <svg viewBox="0 0 24 24" width={16} height={16} fill="none" stroke="currentColor" strokeWidth={1.75} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" className={className} {...props}>
      <path d="M21 12a9 9 0 0 1-15.5 6.2L3 16" />
      <path d="M3 21v-5h5" />
      <path d="M3 12a9 9 0 0 1 15.5-6.2L21 8" />
      <path d="M21 3v5h-5" />
    </svg>
  );
}

export function IconKey({ className, ...props }: SVGProps<SVGSVGElement>) {
  return (
    <svg viewBox="0 0 24 24" width={16} height={16} fill="none" stroke="currentColor" strokeWidth={1.75} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true" className={className} {...props}>
      <circle cx="7.5" cy="15.5" r="4.5" />
      <path d="m10.7 12.3 9.8-9.8" />
      <path d="m17 6 3 3" />
      <path d="m14.5 8.5 2 2" />
    </svg>
  );
}
