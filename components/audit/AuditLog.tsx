"use client";

import { useQuery } from "@tanstack/react-query";
import { Badge, EmptyState, IconAudit, PageHeader, Spinner, Table, TBody, TD, TH, THead, TR } from "@/components/ui";
import { formatDateTime } from "@/lib/format";
import { messageOf, useTRPC } from "@/lib/trpc";

export function AuditLog() {
  const trpc = useTRPC();
  const events = useQuery(trpc.audit.list.queryOptions({ limit: 100 }));
  return (
    <div className="space-y-6">
      <PageHeader title="Audit log" description="Append-only and hash-chained: sign-ins, admin changes and every decision, newest first." />
      {events.isPending ? (
        <Spinner label="Loading the audit log" showLabel />
      ) : events.isError ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(events.error)}</p>
      ) : events.data.items.length === 0 ? (
        <EmptyState icon={<IconAudit />} title="No events yet" />
      ) : (
        <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Audit events">
          <THead>
            <TR><TH numeric>#</TH><TH>When</TH><TH>Action</TH><TH>Actor</TH><TH>Target</TH><TH>Details</TH></TR>
          </THead>
          <TBody>
            {events.data.items.map((event) => (
              <TR key={event.id}>
                <TD numeric>{event.seq}</TD>
                <TD muted>{formatDateTime(event.createdAt)}</TD>
                <TD><Badge>{event.action}</Badge></TD>
                <TD muted>{event.actorLabel}</TD>
                <TD muted>{event.targetType ?? "—"}</TD>
                <TD><code className="line-clamp-2 max-w-sm text-xs break-all text-fg-muted">{JSON.stringify(event.data)}</code></TD>
              </TR>
            ))}
          </TBody>
        </Table>
      )}
    </div>
  );
}
