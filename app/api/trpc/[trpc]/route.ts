import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { appRouter } from "@/server/trpc/root";
import { createRequestContext, rejectForeignOrigin } from "@/server/trpc/request-context";

const handler = async (request: Request): Promise<Response> => {
  const refused = rejectForeignOrigin(request);
  if (refused) return refused;
  return fetchRequestHandler({ endpoint: "/api/trpc", req: request, router: appRouter, createContext: () => createRequestContext() });
};

export { handler as GET, handler as POST };
