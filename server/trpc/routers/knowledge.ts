import { z } from "zod";
import { DocumentTooLarge } from "../../domain/knowledge/extract";
import {
  CollectionName,
  deleteDocument,
  getDocument,
  listCollections,
  listDocuments,
  ListDocumentsInput,
  MAX_DOCUMENT_BYTES,
  searchKnowledgeFor,
  SearchKnowledgeInput,
  uploadDocument,
} from "../../domain/knowledge/knowledge";
import { createTRPCRouter, scopedProcedure } from "../init";

const DocumentId = z.object({ id: z.string().min(1).max(100) });

// The console sends the file as base64 in JSON (4 characters per 3 bytes): JSON keeps the request CSRF-safe.
const UploadInput = z.object({
  collection: CollectionName,
  title: z.string().max(300).optional(),
  fileName: z.string().min(1).max(255),
  mimeType: z.string().max(200),
  contentBase64: z.string().max(Math.ceil(MAX_DOCUMENT_BYTES / 3) * 4 + 4, `Documents are limited to ${MAX_DOCUMENT_BYTES / (1024 * 1024)} MB.`),
});

export const knowledgeRouter = createTRPCRouter({
  collections: scopedProcedure("memory:read").query(({ ctx }) => listCollections(ctx.db, ctx.principal)),
  documents: scopedProcedure("memory:read").input(ListDocumentsInput).query(({ ctx, input }) => listDocuments(ctx.db, ctx.principal, input)),
  byId: scopedProcedure("memory:read").input(DocumentId).query(({ ctx, input }) => getDocument(ctx.db, ctx.principal, input.id)),
  search: scopedProcedure("memory:read").input(SearchKnowledgeInput).query(({ ctx, input }) => searchKnowledgeFor(ctx.db, ctx.principal, input)),
  upload: scopedProcedure("memory:write")
    .input(UploadInput)
    .mutation(({ ctx, input: { contentBase64, ...input } }) => {
      const bytes = new Uint8Array(Buffer.from(contentBase64, "base64"));
      if (bytes.byteLength > MAX_DOCUMENT_BYTES) throw new DocumentTooLarge(bytes.byteLength);
      return uploadDocument(ctx.db, ctx.principal, { ...input, bytes });
    }),
  delete: scopedProcedure("memory:delete").input(DocumentId).mutation(({ ctx, input }) => deleteDocument(ctx.db, ctx.principal, input.id)),
});
