import type { Metadata } from "next";

export const metadata: Metadata = { title: "Review draft" };

/** The review is drawn by the inbox layout, which reads the id from the URL so the list stays in place. */
export default function InboxItemPage() {
  return null;
}
