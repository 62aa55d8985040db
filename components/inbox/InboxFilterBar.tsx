"use client";

import { Button, Select } from "@/components/ui";
import { cn } from "@/lib/cn";
import {
  AGE_OPTIONS,
  DEFAULT_FILTERS,
  hasNarrowingFilters,
  KIND_LABELS,
  KIND_PARAMS,
  OPEN_VIEW_LABELS,
  OPEN_VIEWS,
  TAB_LABELS,
  TABS,
  type InboxFilters,
  type InboxTab,
  type KindParam,
  type OpenView,
  type Person,
} from "./shared";

export function InboxTabs({ tab, pending, onChange }: { tab: InboxTab; pending: number | undefined; onChange: (tab: InboxTab) => void }) {
  return (
    <div role="tablist" aria-label="Inbox" className="flex gap-1 overflow-x-auto border-b border-border">
      {TABS.map((name) => (
        <button
          key={name}
          type="button"
          role="tab"
          id={`inbox-tab-${name}`}
          aria-selected={tab === name}
          aria-controls="inbox-panel"
          onClick={() => onChange(name)}
          className={cn(
            "-mb-px flex items-center gap-2 border-b-2 px-3 py-2 text-sm whitespace-nowrap",
            tab === name ? "border-accent-600 font-medium text-accent-700" : "border-transparent text-fg-muted hover:text-fg",
          )}
        >
          {TAB_LABELS[name]}
          {name === "open" && pending ? (
            <span className="rounded-full bg-warning-100 px-1.5 text-xs leading-5 font-semibold text-warning-800 tabular-nums" title={`${pending} waiting for review`}>
              {pending}
            </span>
          ) : null}
        </button>
      ))}
    </div>
  );
}

export function InboxFilterBar({ filters, agents, members, meId, onChange }: {
  filters: InboxFilters;
  agents: { id: string; name: string }[];
  /** Active members to filter by; empty when the viewer may not list members ("Me" and "Unassigned" still work). */
  members: Person[];
  meId: string | null;
  onChange: (filters: InboxFilters) => void;
}) {
  const set = (patch: Partial<InboxFilters>) => onChange({ ...filters, ...patch });
  // A link may name an agent or a person this list does not know (archived, removed): keep it selectable.
  const unknownAgent = filters.agentId && !agents.some((agent) => agent.id === filters.agentId);
  const unknownAssignee = filters.assignee && !["me", "none"].includes(filters.assignee) && !members.some((member) => member.id === filters.assignee);
  return (
    <div className="flex flex-wrap items-end gap-3">
      {filters.tab === "open" ? (
        <label className="text-xs text-fg-muted">
          Status
          <Select aria-label="Filter by status" value={filters.openView} onChange={(e) => set({ openView: e.target.value as OpenView })} className="mt-1 w-52">
            {OPEN_VIEWS.map((view) => <option key={view} value={view}>{OPEN_VIEW_LABELS[view]}</option>)}
          </Select>
        </label>
      ) : null}
      <label className="text-xs text-fg-muted">
        Agent
        <Select aria-label="Filter by agent" value={filters.agentId} onChange={(e) => set({ agentId: e.target.value })} className="mt-1 w-44">
          <option value="">All agents</option>
          {agents.map((agent) => <option key={agent.id} value={agent.id}>{agent.name}</option>)}
          {unknownAgent ? <option value={filters.agentId}>Agent {filters.agentId.slice(-8)}</option> : null}
        </Select>
      </label>
      <label className="text-xs text-fg-muted">
        Kind
        <Select aria-label="Filter by kind" value={filters.kind} onChange={(e) => set({ kind: e.target.value as KindParam | "" })} className="mt-1 w-36">
          <option value="">Any kind</option>
          {(Object.keys(KIND_PARAMS) as KindParam[]).map((kind) => <option key={kind} value={kind}>{KIND_LABELS[KIND_PARAMS[kind]]}</option>)}
        </Select>
      </label>
      <label className="text-xs text-fg-muted">
        Age
        <Select aria-label="Filter by age" value={String(filters.minAgeHours)} onChange={(e) => set({ minAgeHours: Number(e.target.value) })} className="mt-1 w-36">
          <option value="0">Any age</option>
          {AGE_OPTIONS.map((option) => <option key={option.hours} value={String(option.hours)}>{option.label}</option>)}
          {filters.minAgeHours > 0 && !AGE_OPTIONS.some((option) => option.hours === filters.minAgeHours) ? (
            <option value={String(filters.minAgeHours)}>Over {filters.minAgeHours} h</option>
          ) : null}
        </Select>
      </label>
      <label className="text-xs text-fg-muted">
        Assignee
        <Select aria-label="Filter by assignee" value={filters.assignee} onChange={(e) => set({ assignee: e.target.value })} className="mt-1 w-44">
          <option value="">Anyone</option>
          {meId ? <option value="me">Assigned to me</option> : null}
          <option value="none">Unassigned</option>
          {members.filter((member) => member.id !== meId).map((member) => <option key={member.id} value={member.id}>{member.name ?? member.email}</option>)}
          {unknownAssignee ? <option value={filters.assignee}>Someone else</option> : null}
        </Select>
      </label>
      {hasNarrowingFilters(filters) ? (
        <Button variant="ghost" onClick={() => onChange({ ...DEFAULT_FILTERS, tab: filters.tab })}>Clear filters</Button>
      ) : null}
    </div>
  );
}
