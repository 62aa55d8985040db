"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { TRPCClientError } from "@trpc/client";
import Link from "next/link";
import { useRouter } from "next/navigation";
import { useState, type ReactNode } from "react";
import { Badge, Button, Card, CardBody, CardHeader, EmptyState, IconInfo, IconMemory, PageHeader, Spinner, useToast } from "@/components/ui";
import { formatDateTime, formatRelative } from "@/lib/format";
import { hasScope } from "@/lib/scopes";
import { messageOf, useTRPC } from "@/lib/trpc";
import { DeleteMemoriesDialog, EditMemoryDialog, type EditableMemory } from "./MemoryDialogs";
import { IconPencil, IconPin, IconTrash, KindBadge, PinnedBadge, ScopeBadge, SourceLink } from "./MemoryParts";
import { expiryText, ownerText, personLabel, SCOPE_HINTS } from "./shared";

function isNotFound(error: unknown): boolean {
  return error instanceof TRPCClientError && (error.data as { code?: string } | undefined)?.code === "NOT_FOUND";
}

function Stat({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="min-w-0">
      <dt className="text-xs text-fg-subtle">{label}</dt>
      <dd className="mt-0.5 text-sm text-fg">{children}</dd>
    </div>
  );
}

const BACK = (
  <Link href="/memory" className="inline-flex items-center gap-1 text-sm font-medium text-accent-700 hover:underline">
    ← All memories
  </Link>
);

/** One memory: what it says, where it came from, what it said before edits, and what it replaced. */
export function MemoryDetail({ id }: { id: string }) {
  const trpc = useTRPC();
  const router = useRouter();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const me = useQuery(trpc.me.get.queryOptions());
  const meId = me.data?.user?.id ?? null;
  const canWrite = hasScope(me.data, "memory:write");
  const canDelete = hasScope(me.data, "memory:delete");
  const memory = useQuery(trpc.memory.get.queryOptions({ id }));
  const [editing, setEditing] = useState<EditableMemory | null>(null);
  const [deleting, setDeleting] = useState(false);
  const pin = useMutation(
    trpc.memory.update.mutationOptions({
      onSuccess: async (updated) => {
        toast({ title: updated.pinned ? "Pinned" : "Unpinned", description: updated.pinned ? "Agents recall it before other matching memories." : "It is recalled like any other memory again.", tone: "success" });
        await queryClient.invalidateQueries(trpc.memory.pathFilter());
      },
      onError: (error) => toast({ title: "Could not change the pin", description: messageOf(error), tone: "danger" }),
    }),
  );

  if (memory.isPending) {
    return (
      <div className="space-y-6">
        <PageHeader eyebrow={BACK} title="Memory" />
        <Spinner label="Loading the memory" showLabel />
      </div>
    );
  }
  if (memory.isError) {
    return (
      <div className="space-y-6">
        <PageHeader eyebrow={BACK} title="Memory" />
        {isNotFound(memory.error) ? (
          <EmptyState icon={<IconMemory />} title="This memory is not here" description="It was deleted, or it is someone’s personal memory that only they and admins can see." />
        ) : (
          <p role="alert" className="text-sm text-danger-700">Could not load the memory: {messageOf(memory.error)}</p>
        )}
      </div>
    );
  }

  const data = memory.data;
  const now = Date.now();
  return (
    <div className="space-y-6">
      <PageHeader
        eyebrow={BACK}
        title="Memory"
        description={
          <span className="flex flex-wrap items-center gap-1.5">
            {data.pinned ? <PinnedBadge /> : null}
            <ScopeBadge scope={data.scope} />
            <KindBadge kind={data.kind} />
            {data.supersededById ? <Badge>superseded</Badge> : null}
          </span>
        }
        actions={
          <>
            {canWrite && !data.supersededById ? (
              <>
                <Button icon={<IconPin filled={data.pinned} />} loading={pin.isPending} onClick={() => pin.mutate({ id: data.id, pinned: !data.pinned })}>
                  {data.pinned ? "Unpin" : "Pin"}
                </Button>
                <Button icon={<IconPencil />} onClick={() => setEditing({ id: data.id, content: data.content, expiresAt: data.expiresAt })}>Edit</Button>
              </>
            ) : null}
            {canDelete ? <Button variant="ghost" icon={<IconTrash className="text-danger-600" />} onClick={() => setDeleting(true)}><span className="text-danger-700">Delete…</span></Button> : null}
          </>
        }
      />
      <article aria-label="Memory" className="space-y-6">
        {data.supersededById ? (
          <p role="note" className="flex items-start gap-2 rounded-md border border-warning-200 bg-warning-50 px-3 py-2 text-sm text-warning-800">
            <IconInfo className="mt-0.5 shrink-0" />
            <span>
              A newer, near-identical memory replaced this one, so agents no longer recall it.{" "}
              <Link href={`/memory/${data.supersededById}`} className="font-medium underline">Open the newer memory</Link>
            </span>
          </p>
        ) : null}
        <Card>
          <CardBody className="space-y-5">
            <p className="text-base leading-7 whitespace-pre-wrap text-gray-950" data-testid="memory-content">{data.content}</p>
            <dl className="grid grid-cols-2 gap-x-6 gap-y-4 border-t border-border pt-4 md:grid-cols-3 xl:grid-cols-6">
              <Stat label="Belongs to">
                <span title={SCOPE_HINTS[data.scope]}>{ownerText(data, meId)}</span>
              </Stat>
              <Stat label="Source"><SourceLink source={data.source} meId={meId} /></Stat>
              <Stat label="Added"><span title={formatDateTime(data.createdAt)}>{formatRelative(data.createdAt, now)}</span></Stat>
              <Stat label="Last changed"><span title={formatDateTime(data.updatedAt)}>{formatRelative(data.updatedAt, now)}</span></Stat>
              <Stat label="Expires">{data.expiresAt ? <span title={formatDateTime(data.expiresAt)}>{expiryText(data.expiresAt, now)}</span> : "Never"}</Stat>
              <Stat label="Recalled">{data.supersededById ? "No longer (superseded)" : data.pinned ? "First, when it matches" : "When it matches"}</Stat>
            </dl>
          </CardBody>
        </Card>

        <section aria-label="History">
          <Card>
            <CardHeader title="History" description="What this memory said before each edit, newest first." />
            {data.revisions.length === 0 ? (
              <CardBody><p className="text-sm text-fg-muted">Never edited: this is the original wording.</p></CardBody>
            ) : (
              <ol className="divide-y divide-border/70">
                {data.revisions.map((revision) => (
                  <li key={revision.id} className="px-4 py-3">
                    <p className="text-sm whitespace-pre-wrap text-fg-muted line-through decoration-gray-300">{revision.content}</p>
                    <p className="mt-1 text-xs text-fg-subtle">
                      Replaced by {personLabel(revision.editedBy, meId)} · <span title={formatDateTime(revision.createdAt)}>{formatRelative(revision.createdAt, now)}</span>
                    </p>
                  </li>
                ))}
              </ol>
            )}
          </Card>
        </section>

        <section aria-label="Supersedes">
          <Card>
            <CardHeader title="Supersedes" description="Older near-identical memories this one replaced. They are kept but no longer recalled." />
            {data.supersedes.length === 0 ? (
              <CardBody><p className="text-sm text-fg-muted">It replaced no other memory.</p></CardBody>
            ) : (
              <ul className="divide-y divide-border/70">
                {data.supersedes.map((older) => (
                  <li key={older.id} className="flex items-start justify-between gap-4 px-4 py-3">
                    <Link href={`/memory/${older.id}`} className="text-sm text-fg hover:text-accent-700 hover:underline">{older.content}</Link>
                    <span className="shrink-0 text-xs text-fg-subtle" title={formatDateTime(older.createdAt)}>{formatRelative(older.createdAt, now)}</span>
                  </li>
                ))}
              </ul>
            )}
          </Card>
        </section>
      </article>

      <EditMemoryDialog memory={editing} onClose={() => setEditing(null)} />
      <DeleteMemoriesDialog
        ids={deleting ? [data.id] : []}
        preview={data.content.length > 160 ? `${data.content.slice(0, 159)}…` : data.content}
        onClose={() => setDeleting(false)}
        onDeleted={() => router.push("/memory")}
      />
    </div>
  );
}
