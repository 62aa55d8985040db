import { handleAgentWebhook } from "@/server/rest/webhook";

export const dynamic = "force-dynamic";

export const POST = handleAgentWebhook;
