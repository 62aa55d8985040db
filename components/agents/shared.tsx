import type { inferRouterOutputs } from "@trpc/server";
import { TRPCClientError } from "@trpc/client";
import { Badge, type BadgeTone } from "@/components/ui";
import type { AppRouter } from "@/server/trpc/root";

export type RouterOutputs = inferRouterOutputs<AppRouter>;
export type ModelOption = RouterOutputs["models"]["list"][number];
export type ToolServerOption = RouterOutputs["agents"]["grantableTools"][number];
export type AgentDetailData = RouterOutputs["agents"]["byId"];

const STATUS_TONES: Record<string, BadgeTone> = { ACTIVE: "success", DISABLED: "warning", ARCHIVED: "neutral" };

export function AgentStatusBadge({ status }: { status: string }) {
  return (
    <Badge tone={STATUS_TONES[status] ?? "neutral"} dot>
      {status.toLowerCase()}
    </Badge>
  );
}

const RISK_TONES: Record<string, BadgeTone> = { READ: "info", WRITE: "warning", EXTERNAL: "danger" };

export function ToolRiskBadge({ risk }: { risk: string | null }) {
  if (!risk) return <Badge tone="neutral" title="Nobody has classified this tool yet; it cannot be called until someone does.">unclassified</Badge>;
  return <Badge tone={RISK_TONES[risk] ?? "neutral"}>{risk.toLowerCase()}</Badge>;
}

/** The tRPC error code of a failed request ("CONFLICT", "NOT_FOUND"…), or undefined. */
export function errorCodeOf(error: unknown): string | undefined {
  if (error instanceof TRPCClientError) return (error.data as { code?: string } | undefined)?.code;
  return undefined;
}

/** Lowercase a–z, 0–9 and single hyphens, as the server requires. */
export function slugify(name: string): string {
  return name
    .toLowerCase()
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 64)
    .replace(/-+$/g, "");
}
