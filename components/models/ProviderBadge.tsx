import { Badge, type BadgeTone } from "@/components/ui";

export const PROVIDERS = ["OPENAI", "ANTHROPIC", "OLLAMA", "SCRIPTED"] as const;
export type Provider = (typeof PROVIDERS)[number];

export const PROVIDER_LABELS: Record<Provider, string> = {
  OPENAI: "OpenAI",
  ANTHROPIC: "Anthropic",
  OLLAMA: "Ollama",
  SCRIPTED: "Scripted (offline)",
};

const TONES: Record<Provider, BadgeTone> = { OPENAI: "success", ANTHROPIC: "warning", OLLAMA: "info", SCRIPTED: "neutral" };

export function ProviderBadge({ provider }: { provider: Provider }) {
  return <Badge tone={TONES[provider]}>{provider === "SCRIPTED" ? "Scripted" : PROVIDER_LABELS[provider]}</Badge>;
}
