import type { NextAuthOptions, User as NextAuthUser } from "next-auth";
import CredentialsProvider from "next-auth/providers/credentials";
import type { OAuthConfig } from "next-auth/providers/oauth";
import { getServerSession } from "next-auth";
import { env, runtimeSecrets } from "./env";
import { getDb } from "./db";
import { signInWithPassword } from "./domain/identity/sign-in";
import { linkOidcAccount } from "./domain/identity/sso";
import { principalForUser, type Principal } from "./domain/identity/principal";
import { DomainError } from "./domain/errors";

const SESSION_MAX_AGE_S = 12 * 60 * 60;

interface OidcProfile {
  sub: string;
  email?: string;
  email_verified?: boolean;
  name?: string;
}

export function oidcEnabled(): boolean {
  return Boolean(env.OIDC_ISSUER && env.OIDC_CLIENT_ID && env.OIDC_CLIENT_SECRET);
}

function oidcProvider(): OAuthConfig<OidcProfile> | null {
  if (!env.OIDC_ISSUER || !env.OIDC_CLIENT_ID || !env.OIDC_CLIENT_SECRET) return null;
  return {
    id: "oidc",
    name: env.OIDC_NAME,
    type: "oauth",
    wellKnown: `${env.OIDC_ISSUER.replace(/\/$/, "")}/.well-known/openid-configuration`,
    clientId: env.OIDC_CLIENT_ID,
    clientSecret: env.OIDC_CLIENT_SECRET,
    authorization: { params: { scope: "openid email profile" } },
    idToken: true,
    checks: ["pkce", "state"],
    profile: (profile) => ({ id: profile.sub, email: profile.email ?? null, name: profile.name ?? null }),
  };
}

function clientKey(headers: Record<string, unknown> | undefined): string {
  const forwarded = headers?.["x-forwarded-for"];
  return typeof forwarded === "string" && forwarded ? (forwarded.split(",")[0]?.trim() ?? "local") : "local";
}

export function authOptions(): NextAuthOptions {
  const oidc = oidcProvider();
  return {
    secret: runtimeSecrets().nextAuthSecret,
    // Credentials sign-in requires JWT sessions. The token carries only the user id: permissions are read from
    // the database on every request (server/domain/identity/principal.ts), so revocation is immediate.
    session: { strategy: "jwt", maxAge: SESSION_MAX_AGE_S },
    pages: { signIn: "/sign-in", error: "/sign-in" },
    providers: [
      CredentialsProvider({
        name: "Email and password",
        credentials: { email: { label: "Email", type: "email" }, password: { label: "Password", type: "password" } },
        async authorize(credentials, req): Promise<NextAuthUser | null> {
          try {
            const user = await signInWithPassword(await getDb(), credentials, clientKey(req.headers));
            return user ? { id: user.id, email: user.email, name: user.name } : null;
          } catch (error) {
            // next-auth passes a thrown message through as `error`; only domain messages are safe to show.
            if (error instanceof DomainError) throw new Error(error.message, { cause: error });
            throw error;
          }
        },
      }),
      ...(oidc ? [oidc] : []),
    ],
    callbacks: {
      async signIn({ account, profile }) {
        if (account?.provider !== "oidc") return true;
        const oidcProfile = profile as OidcProfile | undefined;
        if (!oidcProfile?.email || oidcProfile.email_verified === false) return false;
        const userId = await linkOidcAccount(await getDb(), {
          email: oidcProfile.email,
          name: oidcProfile.name ?? null,
          providerAccountId: account.providerAccountId,
        });
        return userId !== null;
      },
      async jwt({ token, account, profile }) {
        if (account?.provider === "oidc") {
          const email = (profile as OidcProfile | undefined)?.email;
          const db = await getDb();
          const user = email ? await db.user.findUnique({ where: { email: email.toLowerCase() }, select: { id: true } }) : null;
          if (user) token.sub = user.id;
        }
        return token;
      },
      session({ session, token }) {
        if (session.user && token.sub) Object.assign(session.user, { id: token.sub });
        return session;
      },
    },
  };
}

/** The principal behind the current request's session cookie, or null. Server-side only. */
export async function sessionPrincipal(): Promise<Principal | null> {
  const session = await getServerSession(authOptions());
  const userId = (session?.user as { id?: string } | undefined)?.id;
  if (!userId) return null;
  return principalForUser(await getDb(), userId);
}
