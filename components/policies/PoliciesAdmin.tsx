"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import {
  Button,
  EmptyState,
  IconAlertTriangle,
  IconApprovals,
  IconPlus,
  PageHeader,
  Spinner,
  Table,
  TBody,
  TD,
  TH,
  THead,
  TR,
  useToast,
} from "@/components/ui";
import { hasScope } from "@/lib/scopes";
import { messageOf, useTRPC } from "@/lib/trpc";
import { GovernanceCard } from "./GovernanceCard";
import { PolicyDialog } from "./PolicyDialog";
import { EffectBadge, matchWords, specificityOf, Switch, type PolicyRow, type PolicyTargets } from "./shared";
import { TestCallPanel } from "./TestCallPanel";

export function PoliciesAdmin() {
  const trpc = useTRPC();
  const me = useQuery(trpc.me.get.queryOptions());
  const policies = useQuery(trpc.policies.list.queryOptions());
  const targets = useQuery(trpc.policies.targets.queryOptions());
  const canManage = hasScope(me.data, "policies:manage");
  // The dialog stays mounted (the Dialog primitive expects `open` to toggle); `session` resets the form on each opening.
  const [editing, setEditing] = useState<{ policy: PolicyRow | null } | null>(null);
  const [session, setSession] = useState(0);
  const open = (policy: PolicyRow | null) => {
    setSession((n) => n + 1);
    setEditing({ policy });
  };

  const newButton = canManage ? (
    <Button variant="primary" icon={<IconPlus />} onClick={() => open(null)}>
      New policy
    </Button>
  ) : null;

  return (
    <div className="space-y-8">
      <section className="space-y-5">
        <PageHeader
          title="Policies"
          description="Every tool call an agent makes is decided by these rules before it runs. The most specific applying rule decides; among equally specific ones, deny beats require approval beats allow. A call no rule covers is allowed, and a tool nobody classified is never callable."
          actions={newButton}
        />
        {me.data && !canManage ? (
          <p className="rounded-md border border-border bg-gray-50 px-3 py-2 text-sm text-fg-muted">
            You can read the policies and test calls against them. Only admins and owners can change them.
          </p>
        ) : null}
        {policies.isPending ? (
          <Spinner label="Loading policies" showLabel />
        ) : policies.isError ? (
          <p role="alert" className="text-sm text-danger-700">
            {messageOf(policies.error)}
          </p>
        ) : policies.data.length === 0 ? (
          <EmptyState
            icon={<IconApprovals />}
            title="No policies yet"
            description="Every granted, classified tool call is allowed. Add a rule to require approval above a refund amount, or to deny a tool outright."
            action={newButton}
          />
        ) : (
          <PoliciesTable policies={policies.data} targets={targets.data} canManage={canManage} onEdit={open} />
        )}
      </section>
      <TestCallPanel targets={targets.data} targetsError={targets.error} />
      <GovernanceCard canManage={canManage} />
      {targets.data ? (
        <PolicyDialog
          open={editing !== null}
          session={session}
          policy={editing?.policy ?? null}
          targets={targets.data}
          onClose={() => setEditing(null)}
        />
      ) : null}
    </div>
  );
}

function PoliciesTable({
  policies,
  targets,
  canManage,
  onEdit,
}: {
  policies: PolicyRow[];
  targets: PolicyTargets | undefined;
  canManage: boolean;
  onEdit: (policy: PolicyRow) => void;
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const [togglingId, setTogglingId] = useState<string | null>(null);
  const invalidate = () => queryClient.invalidateQueries({ queryKey: trpc.policies.list.queryKey() });
  const knownTools = new Set(targets?.tools.map((tool) => tool.name) ?? []);

  const setEnabled = useMutation(
    trpc.policies.setEnabled.mutationOptions({
      onMutate: ({ id }) => setTogglingId(id),
      onSettled: async () => {
        setTogglingId(null);
        await invalidate();
      },
      onSuccess: (policy) => toast({ title: `${policy.enabled ? "Enabled" : "Disabled"} “${policy.name}”`, tone: "success" }),
      onError: (error) => toast({ title: "Could not change the policy", description: messageOf(error), tone: "danger" }),
    }),
  );
  const remove = useMutation(
    trpc.policies.delete.mutationOptions({
      onSuccess: async ({ name }) => {
        toast({ title: `Deleted “${name}”`, tone: "success" });
        await invalidate();
      },
      onError: (error) => toast({ title: "Could not delete the policy", description: messageOf(error), tone: "danger", duration: 10_000 }),
    }),
  );

  return (
    <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Policies">
      <THead>
        <TR>
          <TH>Policy</TH>
          <TH>Effect</TH>
          <TH>Applies to</TH>
          <TH>Enabled</TH>
          {canManage ? (
            <TH>
              <span className="sr-only">Actions</span>
            </TH>
          ) : null}
        </TR>
      </THead>
      <TBody>
        {policies.map((policy) => {
          const words = matchWords(policy);
          const unknownTool = policy.toolName !== null && targets !== undefined && !knownTools.has(policy.toolName);
          return (
            <TR key={policy.id} className={policy.enabled ? "align-top" : "align-top opacity-60"}>
              <TD className="max-w-md py-3">
                <span className="font-medium text-fg">{policy.name}</span>
                {policy.reason ? <p className="mt-0.5 text-xs text-fg-muted">{policy.reason}</p> : null}
              </TD>
              <TD className="py-3">
                <EffectBadge effect={policy.effect} />
              </TD>
              <TD className="py-3">
                <div className="flex flex-wrap items-center gap-x-1.5 gap-y-1 text-sm">
                  {words.length === 0 ? (
                    <span className="text-fg-muted">every tool call</span>
                  ) : (
                    words.map((word, i) => (
                      <span key={i} className="inline-flex items-center gap-1.5">
                        {i > 0 ? (
                          <span aria-hidden="true" className="text-fg-subtle">
                            ·
                          </span>
                        ) : null}
                        <code className="rounded bg-gray-100 px-1 py-0.5 text-xs text-fg">{word}</code>
                      </span>
                    ))
                  )}
                </div>
                <p className="mt-1 text-xs text-fg-subtle">
                  specificity {specificityOf(policy)}
                  {unknownTool ? (
                    <span className="ml-2 inline-flex items-center gap-1 text-warning-700">
                      <IconAlertTriangle className="size-3" /> no registered tool is named “{policy.toolName}”
                    </span>
                  ) : null}
                </p>
              </TD>
              <TD className="py-3">
                {canManage ? (
                  <Switch
                    checked={policy.enabled}
                    label={`${policy.enabled ? "Disable" : "Enable"} “${policy.name}”`}
                    busy={togglingId === policy.id}
                    onChange={(enabled) => setEnabled.mutate({ id: policy.id, enabled })}
                  />
                ) : (
                  <span className="text-xs text-fg-muted">{policy.enabled ? "on" : "off"}</span>
                )}
              </TD>
              {canManage ? (
                <TD className="py-2.5 text-right whitespace-nowrap">
                  <Button size="sm" variant="ghost" onClick={() => onEdit(policy)}>
                    Edit
                  </Button>
                  <Button
                    size="sm"
                    variant="ghost"
                    disabled={remove.isPending}
                    onClick={() => {
                      if (
                        window.confirm(
                          `Delete the policy “${policy.name}”? Calls it covered are decided by the remaining policies from the next step on.`,
                        )
                      ) {
                        remove.mutate({ id: policy.id });
                      }
                    }}
                  >
                    Delete
                  </Button>
                </TD>
              ) : null}
            </TR>
          );
        })}
      </TBody>
    </Table>
  );
}
