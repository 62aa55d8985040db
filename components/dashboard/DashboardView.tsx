"use client";

import { useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { Card, CardBody, CardHeader, EmptyState, IconChevronRight, IconDashboard, PageHeader } from "@/components/ui";
import { hasScope } from "@/lib/scopes";
import { useTRPC } from "@/lib/trpc";

export function DashboardView() {
  const trpc = useTRPC();
  const me = useQuery(trpc.me.get.queryOptions());
  const agents = useQuery(trpc.agents.list.queryOptions());
  const canAdmin = hasScope(me.data, "members:manage");

  const nextSteps = [
    { href: "/agents", title: "Agents", detail: agents.data ? `${agents.data.length} in ${me.data?.org.name ?? "your organisation"}` : "Loading…", show: true },
    { href: "/admin/members", title: "Invite your team", detail: "Give supervisors and members their own sign-in", show: canAdmin },
    { href: "/admin/api-keys", title: "Create an API key", detail: "Let your systems call the REST API", show: canAdmin },
    { href: "/api/v1/openapi.json", title: "REST API reference", detail: "OpenAPI 3 document, generated from the code", show: true },
  ].filter((step) => step.show);

  return (
    <div className="space-y-6">
      <PageHeader
        title={me.data?.user?.name ? `Welcome, ${me.data.user.name.split(" ")[0]}` : "Dashboard"}
        description="What your agents are doing, what waits for a person, and what it costs."
      />
      <div className="grid gap-6 lg:grid-cols-3">
        <div className="lg:col-span-2">
          <EmptyState
            icon={<IconDashboard />}
            title="Live metrics are not available yet"
            description="Active runs, waiting approvals and drafts, spend against limits and run latency will show here once the agent runtime ships."
          />
        </div>
        <Card>
          <CardHeader title="Get started" titleAs="h2" />
          <CardBody flush>
            <ul className="divide-y divide-border">
              {nextSteps.map((step) => (
                <li key={step.href}>
                  <Link href={step.href} className="flex items-center justify-between gap-3 px-4 py-3 hover:bg-subtle">
                    <span>
                      <span className="block text-sm font-medium text-fg">{step.title}</span>
                      <span className="block text-xs text-fg-subtle">{step.detail}</span>
                    </span>
                    <IconChevronRight className="text-fg-subtle" />
                  </Link>
                </li>
              ))}
            </ul>
          </CardBody>
        </Card>
      </div>
    </div>
  );
}
