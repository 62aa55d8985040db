import { Badge, type BadgeTone } from "@/components/ui";

const TONES: Record<string, BadgeTone> = {
  QUEUED: "neutral",
  RUNNING: "info",
  WAITING_APPROVAL: "warning",
  WAITING_REVIEW: "warning",
  WAITING_CHILDREN: "info",
  SUCCEEDED: "success",
  FAILED: "danger",
  CANCELLED: "neutral",
  HALTED: "danger",
};

export function RunStatusBadge({ status }: { status: string }) {
  return (
    <Badge tone={TONES[status] ?? "neutral"} dot>
      {status.toLowerCase().replaceAll("_", " ")}
    </Badge>
  );
}
