import type { Metadata } from "next";
import { AgentVersions } from "@/components/agents/AgentVersions";

export const metadata: Metadata = { title: "Agent versions" };

const versionParam = (value: string | string[] | undefined) => {
  const number = Number(Array.isArray(value) ? value[0] : value);
  return Number.isInteger(number) && number > 0 ? number : undefined;
};

export default async function AgentVersionsPage({
  params,
  searchParams,
}: {
  params: Promise<{ agentId: string }>;
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const [{ agentId }, query] = await Promise.all([params, searchParams]);
  return <AgentVersions agentId={agentId} from={versionParam(query.from)} to={versionParam(query.to)} />;
}
