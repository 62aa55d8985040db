import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";

export const GET = restRoute(endpoints.me, async ({ db, principal }) => {
  const org = await db.org.findUniqueOrThrow({ where: { id: principal.orgId }, select: { id: true, name: true, slug: true } });
  return {
    org,
    principal: {
      kind: principal.kind,
      id: principal.kind === "apiKey" ? principal.apiKeyId : principal.userId,
      scopes: [...principal.scopes],
    },
  };
});
