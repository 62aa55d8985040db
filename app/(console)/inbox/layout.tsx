import type { ReactNode } from "react";
import { InboxWorkspace } from "@/components/inbox/InboxWorkspace";
import { requirePageScope } from "@/server/console";

/** One workspace for /inbox and /inbox/<id>: the list keeps its place (and j/k their order) while drafts open beside it. */
export default async function InboxLayout({ children }: { children: ReactNode }) {
  await requirePageScope("inbox:read");
  return <InboxWorkspace>{children}</InboxWorkspace>;
}
