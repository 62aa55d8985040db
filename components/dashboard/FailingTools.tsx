import Link from "next/link";
import { Card, CardHeader, Table, TBody, TD, TH, THead, TR } from "@/components/ui";
import { formatRelative } from "@/lib/format";
import { formatRate, rangeLabel, type DashboardData } from "./shared";

/** The tools whose calls failed most in the range, with the run of each one's latest failure. */
export function FailingTools({ data }: { data: DashboardData }) {
  const tools = data.failingTools;
  return (
    <Card>
      <CardHeader
        title="Top failing tools"
        description={`Calls that ran and failed in the ${rangeLabel(data.range.key).toLowerCase()}. Refusals by policy or a person are counted apart.`}
      />
      {tools.length === 0 ? (
        <p className="px-4 py-10 text-center text-sm text-fg-subtle">No tool call failed in the {rangeLabel(data.range.key).toLowerCase()}.</p>
      ) : (
        <Table caption="Top failing tools">
          <THead>
            <TR>
              <TH>Tool</TH>
              <TH numeric>Failed</TH>
              <TH numeric>Calls</TH>
              <TH numeric>Rate</TH>
              <TH>Last failure</TH>
            </TR>
          </THead>
          <TBody>
            {tools.map((tool) => (
              <TR key={tool.name}>
                <TD>
                  <span className="font-mono text-xs text-fg">{tool.name}</span>
                  {tool.refused > 0 ? <span className="block text-xs text-fg-subtle">{tool.refused} refused</span> : null}
                </TD>
                <TD numeric className="font-medium text-danger-700">{tool.errors.toLocaleString("en-US")}</TD>
                <TD numeric muted>{tool.calls.toLocaleString("en-US")}</TD>
                <TD numeric>{formatRate(tool.errorRate)}</TD>
                <TD>
                  <Link href={`/runs/${tool.lastFailedRunId}`} className="text-xs whitespace-nowrap text-accent-700 hover:underline" title="Open the run of the latest failure">
                    {formatRelative(tool.lastFailedAt)}
                  </Link>
                </TD>
              </TR>
            ))}
          </TBody>
        </Table>
      )}
    </Card>
  );
}
