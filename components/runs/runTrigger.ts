const TRIGGER_LABELS: Record<string, string> = {
  CONSOLE: "console",
  API: "API",
  SCHEDULE: "schedule",
  WEBHOOK: "webhook",
  DELEGATION: "delegated",
};

/** What started a run, in a word: console, API, schedule, webhook or delegated. */
export function runTriggerLabel(trigger: string): string {
  return TRIGGER_LABELS[trigger] ?? trigger.toLowerCase();
}
