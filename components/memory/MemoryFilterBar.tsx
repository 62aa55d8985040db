"use client";

import { Button, IconSearch, Input, Select } from "@/components/ui";
import { DEFAULT_FILTERS, hasNarrowingFilters, KIND_LABELS, KINDS, SCOPE_LABELS, SCOPES, type MemoryFacets, type MemoryFilters, type MemoryKind, type MemoryScope } from "./shared";

export function MemorySearchBox({ value, onChange, searching }: { value: string; onChange: (value: string) => void; searching: boolean }) {
  return (
    <div className="relative w-full max-w-xl">
      <IconSearch aria-hidden="true" className="pointer-events-none absolute top-1/2 left-2.5 -translate-y-1/2 text-fg-subtle" />
      <Input
        type="search"
        aria-label="Search memories"
        placeholder="Search memories, e.g. invoice address or prefers email"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        aria-busy={searching || undefined}
        className="h-9 pl-8"
      />
    </div>
  );
}

export function MemoryFilterBar({ filters, facets, meId, onChange }: {
  filters: MemoryFilters;
  facets: MemoryFacets | undefined;
  meId: string | null;
  onChange: (filters: MemoryFilters) => void;
}) {
  const set = (patch: Partial<MemoryFilters>) => onChange({ ...filters, ...patch });
  const agents = facets?.agents ?? [];
  const users = facets?.users ?? [];
  // A link may name an agent or a person this list does not know (archived, removed): keep it selectable.
  const unknownAgent = filters.agentId && !agents.some((agent) => agent.id === filters.agentId);
  const unknownUser = filters.userId && !users.some((user) => user.id === filters.userId);
  return (
    <div className="flex flex-wrap items-end gap-3">
      <label className="text-xs text-fg-muted">
        Scope
        <Select aria-label="Filter by scope" value={filters.scope} onChange={(e) => set({ scope: e.target.value as MemoryScope | "" })} className="mt-1 w-32">
          <option value="">Any scope</option>
          {SCOPES.map((scope) => <option key={scope} value={scope}>{SCOPE_LABELS[scope]}</option>)}
        </Select>
      </label>
      <label className="text-xs text-fg-muted">
        Agent
        <Select aria-label="Filter by agent" value={filters.agentId} onChange={(e) => set({ agentId: e.target.value })} className="mt-1 w-44">
          <option value="">All agents</option>
          {agents.map((agent) => <option key={agent.id} value={agent.id}>{agent.name}</option>)}
          {unknownAgent ? <option value={filters.agentId}>Agent {filters.agentId.slice(-8)}</option> : null}
        </Select>
      </label>
      <label className="text-xs text-fg-muted">
        User
        <Select aria-label="Filter by user" value={filters.userId} onChange={(e) => set({ userId: e.target.value })} className="mt-1 w-48">
          <option value="">Anyone</option>
          {users.map((user) => <option key={user.id} value={user.id}>{user.id === meId ? "You" : (user.name ?? user.email)}</option>)}
          {unknownUser ? <option value={filters.userId}>Someone else</option> : null}
        </Select>
      </label>
      <label className="text-xs text-fg-muted">
        Kind
        <Select aria-label="Filter by kind" value={filters.kind} onChange={(e) => set({ kind: e.target.value as MemoryKind | "" })} className="mt-1 w-36">
          <option value="">Any kind</option>
          {KINDS.map((kind) => <option key={kind} value={kind}>{KIND_LABELS[kind]}</option>)}
        </Select>
      </label>
      <label className="flex h-8 items-center gap-2 text-sm text-fg">
        <input type="checkbox" checked={filters.pinned} onChange={(e) => set({ pinned: e.target.checked })} className="size-3.5 accent-accent-600" />
        Pinned only
      </label>
      <label className="flex h-8 items-center gap-2 text-sm text-fg" title="Older memories replaced by a newer, near-identical one">
        <input type="checkbox" checked={filters.superseded} onChange={(e) => set({ superseded: e.target.checked })} className="size-3.5 accent-accent-600" />
        Show superseded
      </label>
      {hasNarrowingFilters(filters) ? (
        <Button variant="ghost" onClick={() => onChange({ ...DEFAULT_FILTERS, q: filters.q })}>Clear filters</Button>
      ) : null}
    </div>
  );
}
