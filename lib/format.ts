/** Browser-safe formatting shared by the console's pages. */
export function formatUsd(micros: number): string {
  const usd = micros / 1_000_000;
  if (usd === 0) return "$0.00";
  if (usd < 0.01) return `$${usd.toFixed(6).replace(/0+$/, "")}`;
  return usd.toLocaleString("en-US", { style: "currency", currency: "USD" });
}

export function formatRelative(date: Date | string | null | undefined, now = Date.now()): string {
  if (!date) return "—";
  const then = typeof date === "string" ? new Date(date).getTime() : date.getTime();
  const seconds = Math.round((now - then) / 1000);
  const abs = Math.abs(seconds);
  const suffix = seconds >= 0 ? "ago" : "from now";
  if (abs < 45) return seconds >= 0 ? "just now" : "in a moment";
  if (abs < 3600) return `${Math.round(abs / 60)} min ${suffix}`;
  if (abs < 86_400) return `${Math.round(abs / 3600)} h ${suffix}`;
  return `${Math.round(abs / 86_400)} d ${suffix}`;
}

export function formatDateTime(date: Date | string | null | undefined): string {
  if (!date) return "—";
  return new Date(date).toLocaleString("en-GB", { dateStyle: "medium", timeStyle: "short", timeZone: "UTC" }) + " UTC";
}
