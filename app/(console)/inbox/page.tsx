import type { Metadata } from "next";

export const metadata: Metadata = { title: "Inbox" };

/** The list is drawn by the inbox layout; nothing is selected here. */
export default function InboxPage() {
  return null;
}
