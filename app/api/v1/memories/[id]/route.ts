import { deleteMemories } from "@/server/domain/memory/memories";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";

export const DELETE = restRoute(endpoints.deleteMemory, async ({ db, principal, params }) => {
  await deleteMemories(db, principal, { ids: [params.id] });
  return undefined;
});
