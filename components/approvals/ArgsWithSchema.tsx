import { Badge } from "@/components/ui";
import { cn } from "@/lib/cn";
import { isRecord, prettyJson, schemaFields } from "./shared";

/** The arguments an agent asked for, pretty-printed, next to what the tool says it takes. */
export function ArgsWithSchema({ args, schema, toolLabel, errors }: {
  args: unknown;
  schema: unknown;
  toolLabel: string;
  /** Field errors by argument name, to mark the parameters they concern. */
  errors?: Record<string, string[]>;
}) {
  return (
    <div className="grid gap-4 lg:grid-cols-[minmax(0,1fr)_minmax(0,1fr)]">
      <ArgsBlock args={args} />
      <SchemaBlock schema={schema} args={args} toolLabel={toolLabel} errors={errors} />
    </div>
  );
}

export function ArgsBlock({ args, label = "Arguments" }: { args: unknown; label?: string }) {
  return (
    <div className="min-w-0">
      <p className="mb-1 text-xs font-medium text-fg-subtle uppercase">{label}</p>
      <pre className="max-h-80 overflow-auto rounded-md border border-border bg-gray-50 p-3 font-mono text-xs leading-relaxed break-words whitespace-pre-wrap text-fg">
        {prettyJson(args)}
      </pre>
    </div>
  );
}

export function SchemaBlock({ schema, args, toolLabel, errors }: { schema: unknown; args?: unknown; toolLabel: string; errors?: Record<string, string[]> }) {
  const fields = schemaFields(schema);
  const given = isRecord(args) ? Object.keys(args) : [];
  const unknown = given.filter((name) => !fields.some((field) => field.name === name));
  return (
    <div className="min-w-0">
      <p className="mb-1 text-xs font-medium text-fg-subtle uppercase">Input schema · <span className="font-mono normal-case">{toolLabel}</span></p>
      {fields.length === 0 ? (
        <p className="rounded-md border border-dashed border-border-strong p-3 text-sm text-fg-muted">The tool declares no parameters we can show.</p>
      ) : (
        <dl aria-label={`Parameters of ${toolLabel}`} className="divide-y divide-border/70 rounded-md border border-border bg-surface">
          {fields.map((field) => {
            const fieldErrors = errors?.[field.name];
            const missing = field.required && isRecord(args) && !(field.name in args);
            return (
              <div key={field.name} className={cn("px-3 py-2", fieldErrors && "bg-danger-50/60")}>
                <dt className="flex flex-wrap items-center gap-x-2 gap-y-1">
                  <code className="font-mono text-xs font-semibold text-fg">{field.name}</code>
                  <span className="font-mono text-xs text-info-700">{field.type}</span>
                  {field.required ? <span className="text-xs text-fg-subtle">required</span> : <span className="text-xs text-fg-subtle">optional</span>}
                  {field.constraints.map((note) => (
                    <span key={note} className="rounded bg-gray-100 px-1 font-mono text-[11px] text-fg-muted">{note}</span>
                  ))}
                  {missing ? <Badge tone="danger">missing</Badge> : null}
                </dt>
                {field.description ? <dd className="mt-0.5 text-xs text-fg-muted">{field.description}</dd> : null}
                {fieldErrors?.map((message) => (
                  <dd key={message} className="mt-0.5 text-xs font-medium text-danger-700">{message}</dd>
                ))}
              </div>
            );
          })}
          {unknown.length > 0 ? (
            <div className="px-3 py-2 text-xs text-warning-700">
              Not in the schema: {unknown.map((name) => <code key={name} className="mr-1 font-mono">{name}</code>)}
            </div>
          ) : null}
        </dl>
      )}
    </div>
  );
}
