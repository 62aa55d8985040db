"use client";

import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import {
  Badge,
  Button,
  CopyField,
  Dialog,
  Field,
  IconPlus,
  Input,
  PageHeader,
  Select,
  Spinner,
  Table,
  TBody,
  TD,
  TH,
  THead,
  TR,
  useToast,
} from "@/components/ui";
import { formatRelative } from "@/lib/format";
import { ROLE_LABELS, ROLES, type RoleName } from "@/lib/scopes";
import { fieldErrorsOf, messageOf, useTRPC } from "@/lib/trpc";
import { formText } from "@/lib/forms";

export function MembersAdmin() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { toast } = useToast();
  const members = useQuery(trpc.members.list.queryOptions());
  const [inviteOpen, setInviteOpen] = useState(false);
  const [inviteLink, setInviteLink] = useState<{ email: string; url: string } | null>(null);

  const refresh = () => queryClient.invalidateQueries({ queryKey: trpc.members.list.queryKey() });
  const invite = useMutation(
    trpc.members.invite.mutationOptions({
      onSuccess: async ({ invitation, token }) => {
        setInviteLink({ email: invitation.email, url: `${window.location.origin}/invite/${token}` });
        await refresh();
      },
    }),
  );
  const changeRole = useMutation(
    trpc.members.changeRole.mutationOptions({
      onSuccess: async () => {
        toast({ title: "Role changed", tone: "success" });
        await refresh();
      },
      onError: (error) => toast({ title: "Could not change the role", description: messageOf(error), tone: "danger" }),
    }),
  );
  const revoke = useMutation(
    trpc.members.revoke.mutationOptions({
      onSuccess: async () => {
        toast({ title: "Access revoked", tone: "success" });
        await refresh();
      },
      onError: (error) => toast({ title: "Could not revoke access", description: messageOf(error), tone: "danger" }),
    }),
  );

  function onInvite(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const form = new FormData(event.currentTarget);
    invite.mutate({ email: formText(form, "email"), role: formText(form, "role") as RoleName });
  }

  function closeInvite() {
    setInviteOpen(false);
    setInviteLink(null);
    invite.reset();
  }

  const fields = fieldErrorsOf(invite.error);
  return (
    <div className="space-y-6">
      <PageHeader
        title="Members"
        description="Who can sign in to this organisation and what their role lets them do."
        actions={
          <Button variant="primary" icon={<IconPlus />} onClick={() => setInviteOpen(true)}>
            Invite member
          </Button>
        }
      />
      {members.isPending ? (
        <Spinner label="Loading members" showLabel />
      ) : members.isError ? (
        <p role="alert" className="text-sm text-danger-700">{messageOf(members.error)}</p>
      ) : (
        <>
          <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Members">
            <THead>
              <TR><TH>Member</TH><TH>Role</TH><TH>Joined</TH><TH><span className="sr-only">Actions</span></TH></TR>
            </THead>
            <TBody>
              {members.data.members.map((m) => (
                <TR key={m.id}>
                  <TD>
                    <span className="font-medium text-fg">{m.user.name ?? m.user.email}</span>
                    <span className="block text-xs text-fg-subtle">{m.user.email}</span>
                  </TD>
                  <TD>
                    {m.revokedAt ? (
                      <Badge tone="neutral">access revoked</Badge>
                    ) : (
                      <Select
                        aria-label={`Role of ${m.user.email}`}
                        value={m.role}
                        disabled={changeRole.isPending}
                        onChange={(event) => changeRole.mutate({ membershipId: m.id, role: event.target.value as RoleName })}
                        className="w-36"
                      >
                        {ROLES.map((role) => <option key={role} value={role}>{ROLE_LABELS[role]}</option>)}
                      </Select>
                    )}
                  </TD>
                  <TD muted>{formatRelative(m.createdAt)}</TD>
                  <TD className="text-right">
                    {m.revokedAt ? null : (
                      <Button
                        size="sm"
                        variant="ghost"
                        onClick={() => {
                          if (window.confirm(`Revoke ${m.user.email}'s access? They are signed out of everything at once.`)) {
                            revoke.mutate({ membershipId: m.id });
                          }
                        }}
                      >
                        Revoke
                      </Button>
                    )}
                  </TD>
                </TR>
              ))}
            </TBody>
          </Table>
          {members.data.invitations.length > 0 ? (
            <div>
              <h2 className="mb-2 text-sm font-semibold text-gray-950">Pending invitations</h2>
              <Table containerClassName="rounded-lg border border-border bg-surface shadow-card" caption="Pending invitations">
                <THead><TR><TH>Email</TH><TH>Role</TH><TH>Expires</TH></TR></THead>
                <TBody>
                  {members.data.invitations.map((inv) => (
                    <TR key={inv.id}>
                      <TD>{inv.email}</TD>
                      <TD>{ROLE_LABELS[inv.role]}</TD>
                      <TD muted>{formatRelative(inv.expiresAt)}</TD>
                    </TR>
                  ))}
                </TBody>
              </Table>
            </div>
          ) : null}
        </>
      )}

      <Dialog
        open={inviteOpen}
        onClose={closeInvite}
        title={inviteLink ? "Send this link" : "Invite a member"}
        description={
          inviteLink
            ? `Give this link to ${inviteLink.email}. It lets them set a password and is shown only once; it expires in 7 days.`
            : "They get a link to set their password. Switchboard does not send email: you pass the link on."
        }
        footer={
          inviteLink ? (
            <Button variant="primary" onClick={closeInvite}>Done</Button>
          ) : (
            <>
              <Button onClick={closeInvite}>Cancel</Button>
              <Button variant="primary" type="submit" form="invite-form" loading={invite.isPending}>Create invitation</Button>
            </>
          )
        }
      >
        {inviteLink ? (
          <CopyField label="Set-password link" value={inviteLink.url} />
        ) : (
          <form id="invite-form" onSubmit={onInvite} className="space-y-4" noValidate>
            {invite.isError && Object.keys(fields).length === 0 ? (
              <p role="alert" className="text-sm text-danger-700">{messageOf(invite.error)}</p>
            ) : null}
            <Field label="Email" error={fields.email}>
              <Input name="email" type="email" required data-autofocus />
            </Field>
            <Field label="Role" error={fields.role} hint="Supervisors decide approvals and review drafts; members start runs and read.">
              <Select name="role" defaultValue="MEMBER">
                {ROLES.map((role) => <option key={role} value={role}>{ROLE_LABELS[role]}</option>)}
              </Select>
            </Field>
          </form>
        )}
      </Dialog>
    </div>
  );
}
