import { buildOpenApiDocument } from "@/server/rest/openapi";

export const dynamic = "force-static";

export function GET(): Response {
  return Response.json(buildOpenApiDocument());
}
