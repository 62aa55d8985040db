import { uploadDocument } from "@/server/domain/knowledge/knowledge";
import { endpoints } from "@/server/rest/endpoints";
import { restRoute } from "@/server/rest/handler";

export const POST = restRoute(endpoints.uploadKnowledgeDocument, async ({ db, principal, body }) => {
  const { id, chunks } = await uploadDocument(db, principal, {
    collection: body.collection,
    title: body.title,
    fileName: body.file.name,
    mimeType: body.file.type,
    bytes: new Uint8Array(await body.file.arrayBuffer()),
  });
  return { id, chunks };
});
