export const TERMINAL_RUN_STATUSES = ["SUCCEEDED", "FAILED", "CANCELLED", "HALTED"];

export function isLive(status: string): boolean {
  return !TERMINAL_RUN_STATUSES.includes(status);
}

export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  if (ms < 1000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(ms < 10_000 ? 2 : 1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}
