"use client";

import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useDeferredValue, useState } from "react";
import { Badge, Button, buttonStyles, EmptyState, IconAudit, Input, PageHeader, Select, Spinner, Table, TBody, TD, TH, THead, TR } from "@/components/ui";
import { formatDateTime } from "@/lib/format";
import { messageOf, useTRPC } from "@/lib/trpc";

const ACTOR_TYPES = ["USER", "API_KEY", "AGENT", "SYSTEM"] as const;
type ActorType = (typeof ACTOR_TYPES)[number];

interface Filters {
  action: string;
  /** `${actorType}:${actorId}`; an empty id means “every actor of that type”. */
  actor: string;
  targetType: string;
  targetId: string;
  /** datetime-local values, read as UTC (the table shows UTC too). */
  from: string;
  to: string;
}

const NO_FILTERS: Filters = { action: "", actor: "", targetType: "", targetId: "", from: "", to: "" };

/** "2026-12-01T09:30" (UTC, as typed) → ISO 8601 with Z; undefined when empty or not a date. */
function utcIso(local: string): string | undefined {
  if (!local) return undefined;
  const date = new Date(`${local}Z`);
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}

function isActorType(value: string): value is ActorType {
  return (ACTOR_TYPES as readonly string[]).includes(value);
}

/** The filter the server understands; the same object drives the page and the export link. */
function serverFilter(filters: Filters) {
  const [actorType, ...rest] = filters.actor.split(":");
  const actorId = rest.join(":");
  return {
    action: filters.action.trim() || undefined,
    actorType: actorType && isActorType(actorType) ? actorType : undefined,
    actorId: actorId || undefined,
    targetType: filters.targetType || undefined,
    targetId: filters.targetId.trim() || undefined,
    from: utcIso(filters.from),
    to: utcIso(filters.to),
  };
}

function exportHref(filter: ReturnType<typeof serverFilter>): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(filter)) if (value) params.set(key, value);
  const query = params.toString();
  return `/api/audit/export${query ? `?${query}` : ""}`;
}

export function AuditLog() {
  const trpc = useTRPC();
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [cursors, setCursors] = useState<number[]>([]);
  // Typing in the text filters should not fire a request per keystroke.
  const deferred = useDeferredValue(filters);
  const filter = serverFilter(deferred);
  const facets = useQuery(trpc.audit.facets.queryOptions());
  const events = useQuery({
    ...trpc.audit.list.queryOptions({ limit: 50, filter, cursor: cursors[cursors.length - 1] }),
    placeholderData: keepPreviousData,
  });
  const set = (patch: Partial<Filters>) => {
    setFilters((current) => ({ ...current, ...patch }));
    setCursors([]);
  };
  const filtered = Object.values(filters).some((value) => value !== "");
  const actorKnown = filters.actor === "" || facets.data?.actors.some((a) => `${a.actorType}:${a.actorId ?? ""}` === filters.actor);

  return (
    <div className="space-y-6">
      <PageHeader
        title="Audit log"
        description="Append-only and hash-chained: sign-ins, admin changes and every decision, newest first. Times are UTC."
        actions={
          <a
            href={exportHref(serverFilter(filters))}
            download
            className={buttonStyles({ variant: "secondary" })}
            title="Download the events matching these filters as JSON lines, oldest first, with their hashes"
          >
            <IconDownload />
            Export{filtered ? " filtered" : ""}
          </a>
        }
      />

      <form role="search" aria-label="Filter audit events" className="flex flex-wrap items-end gap-3" onSubmit={(event) => event.preventDefault()}>
        <label className="w-44 text-xs text-fg-muted">
          Action
          <Input
            value={filters.action}
            onChange={(e) => set({ action: e.target.value })}
            list="audit-actions"
            placeholder="e.g. tool. or secret.created"
            className="mt-1"
            aria-describedby="audit-action-hint"
          />
          <datalist id="audit-actions">
            {facets.data?.actions.map((action) => <option key={action} value={action} />)}
          </datalist>
          <span id="audit-action-hint" className="sr-only">Matches actions that start with this text.</span>
        </label>
        <label className="w-44 text-xs text-fg-muted">
          Actor
          <Select value={filters.actor} onChange={(e) => set({ actor: e.target.value })} className="mt-1">
            <option value="">Anyone</option>
            {ACTOR_TYPES.map((type) => (
              <option key={type} value={`${type}:`}>Any {type.toLowerCase().replace("_", " ")}</option>
            ))}
            {facets.data?.actors
              .filter((actor) => actor.actorId)
              .map((actor) => (
                <option key={`${actor.actorType}:${actor.actorId}`} value={`${actor.actorType}:${actor.actorId}`}>{actor.label}</option>
              ))}
            {actorKnown ? null : <option value={filters.actor}>{filters.actor}</option>}
          </Select>
        </label>
        <label className="w-36 text-xs text-fg-muted">
          Target
          <Select value={filters.targetType} onChange={(e) => set({ targetType: e.target.value })} className="mt-1">
            <option value="">Any target</option>
            {facets.data?.targetTypes.map((type) => <option key={type} value={type}>{type}</option>)}
            {filters.targetType && !facets.data?.targetTypes.includes(filters.targetType) ? <option value={filters.targetType}>{filters.targetType}</option> : null}
          </Select>
        </label>
        <label className="w-32 text-xs text-fg-muted">
          Target id
          <Input value={filters.targetId} onChange={(e) => set({ targetId: e.target.value })} placeholder="exact id" className="mt-1 font-mono" />
        </label>
        <label className="w-48 text-xs text-fg-muted">
          From (UTC)
          <Input type="datetime-local" value={filters.from} onChange={(e) => set({ from: e.target.value })} className="mt-1" />
        </label>
        <label className="w-48 text-xs text-fg-muted">
          To (UTC)
          <Input type="datetime-local" value={filters.to} onChange={(e) => set({ to: e.target.value })} className="mt-1" />
        </label>
        {filtered ? (
          <Button variant="ghost" onClick={() => set(NO_FILTERS)}>
            Clear filters
          </Button>
        ) : null}
      </form>

      {events.isPending ? (
        <Spinner label="Loading the audit log" showLabel />
      ) : events.isError ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(events.error)}</p>
      ) : events.data.items.length === 0 ? (
        <EmptyState icon={<IconAudit />} title={filtered ? "No events match these filters" : "No events yet"} />
      ) : (
        <>
          <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Audit events">
            <THead>
              <TR><TH numeric>#</TH><TH>When</TH><TH>Action</TH><TH>Actor</TH><TH>Target</TH><TH>Details</TH></TR>
            </THead>
            <TBody>
              {events.data.items.map((event) => (
                <TR key={event.id}>
                  <TD numeric>{event.seq}</TD>
                  <TD muted className="whitespace-nowrap">{formatDateTime(event.createdAt)}</TD>
                  <TD>
                    <button type="button" className="cursor-pointer" title={`Show only ${event.action}`} onClick={() => set({ action: event.action })}>
                      <Badge>{event.action}</Badge>
                    </button>
                  </TD>
                  <TD muted>
                    {event.actorId ? (
                      <button
                        type="button"
                        className="text-left hover:text-fg hover:underline"
                        title="Show only this actor"
                        onClick={() => set({ actor: `${event.actorType}:${event.actorId}` })}
                      >
                        {event.actorLabel}
                      </button>
                    ) : (
                      event.actorLabel
                    )}
                  </TD>
                  <TD muted>
                    {event.targetType ? (
                      <button
                        type="button"
                        className="text-left whitespace-nowrap hover:text-fg hover:underline"
                        title={event.targetId ? `Show only events about ${event.targetType} ${event.targetId}` : `Show only ${event.targetType} events`}
                        onClick={() => set({ targetType: event.targetType ?? "", targetId: event.targetId ?? "" })}
                      >
                        {event.targetType}
                        {event.targetId ? <span className="ml-1 font-mono text-[11px] text-fg-subtle">…{event.targetId.slice(-6)}</span> : null}
                      </button>
                    ) : (
                      "—"
                    )}
                  </TD>
                  <TD><code className="line-clamp-2 max-w-sm text-xs break-all text-fg-muted">{JSON.stringify(event.data)}</code></TD>
                </TR>
              ))}
            </TBody>
          </Table>
          <div className="flex items-center justify-end gap-2">
            <Button size="sm" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>Newer</Button>
            <Button size="sm" disabled={!events.data.nextCursor} onClick={() => { const next = events.data.nextCursor; if (next) setCursors((c) => [...c, next]); }}>Older</Button>
          </div>
        </>
      )}
    </div>
  );
}

function IconDownload() {
  return (
    <svg viewBox="0 0 24 24" width={16} height={16} fill="none" stroke="currentColor" strokeWidth={1.75} strokeLinecap="round" strokeLinejoin="round" aria-hidden="true">
      <path d="M12 3v12" />
      <path d="m7 10 5 5 5-5" />
      <path d="M5 21h14" />
    </svg>
  );
}
