import { notFound } from "next/navigation";
import { ADMIN_SECTIONS, type Scope } from "@/lib/scopes";
import { sessionPrincipal } from "./auth";
import { getDb } from "./db";

/** What the console's server layout needs to draw the frame; null when nobody is signed in. */
export async function consoleViewer() {
  const principal = await sessionPrincipal();
  if (!principal || principal.kind !== "user") return null;
  const org = await (await getDb()).org.findUniqueOrThrow({ where: { id: principal.orgId }, select: { name: true } });
  return { orgName: org.name, email: principal.email, name: principal.name, role: principal.role, scopes: principal.scopes };
}

/**
 * Page-level guard for areas a role may not see. The procedures check scopes again; this only keeps people from
 * landing on a page that would show nothing but errors.
 */
export async function requirePageScope(scope: Scope): Promise<void> {
  const principal = await sessionPrincipal();
  if (!principal?.scopes.includes(scope)) notFound();
}

/** The admin sections the signed-in person may open; 404 when there are none. */
export async function allowedAdminSections() {
  const principal = await sessionPrincipal();
  const sections = ADMIN_SECTIONS.filter((section) => principal?.scopes.includes(section.scope));
  if (sections.length === 0) notFound();
  return sections.map(({ href, label }) => ({ href, label }));
}
