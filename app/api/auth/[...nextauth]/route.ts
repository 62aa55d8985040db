import NextAuth from "next-auth";
import { authOptions } from "@/server/auth";

type NextAuthRouteHandler = (request: Request, context: { params: Promise<{ nextauth: string[] }> }) => Promise<Response>;

// Options are built per request: they read runtime secrets that the embedded default generates on first start.
const handler: NextAuthRouteHandler = (request, context) => (NextAuth(authOptions()) as NextAuthRouteHandler)(request, context);

export { handler as GET, handler as POST };
