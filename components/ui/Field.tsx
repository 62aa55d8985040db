import {
  cloneElement,
  isValidElement,
  useId,
  type ReactElement,
  type ReactNode,
} from "react";
import { cn } from "@/lib/cn";
import { Label } from "./Label";

/** Props Field injects into its control. */
export interface FieldControlProps {
  id: string;
  "aria-describedby"?: string;
  "aria-invalid"?: true;
  "aria-required"?: true;
}

export interface FieldProps {
  label: ReactNode;
  /**
   * The control: a single element (Input, Textarea, Select, native control)
   * that receives id / aria-describedby / aria-invalid, or a render function
   * receiving those props for anything more complex.
   */
  children:
    | ReactElement<Partial<FieldControlProps>>
    | ((control: FieldControlProps) => ReactNode);
  /** Control id. Defaults to the child's own id, then a generated one. */
  id?: string;
  /** Help text under the control. */
  hint?: ReactNode;
  /**
   * Field-level error from the server (e.g. zod `fieldErrors.name`). A string
   * array renders one line per message. Empty or undefined means valid.
   */
  error?: string | readonly string[] | null;
  /** Appends a muted "Optional" marker to the label. */
  optional?: boolean;
  /** Sets aria-required on the control (use together with the native `required`). */
  required?: boolean;
  className?: string;
}

export function Field({
  label,
  children,
  id,
  hint,
  error,
  optional,
  required,
  className,
}: FieldProps) {
  const generatedId = useId();
  const childId = isValidElement(children) ? children.props.id : undefined;
  const controlId =
    id ?? childId ?? `field${generatedId.replace(/[^a-zA-Z0-9_-]/g, "")}`;
  const hintId = `${controlId}-hint`;
  const errorId = `${controlId}-error`;

  const errors = (typeof error === "string" ? [error] : (error ?? [])).filter(
    (m) => m.trim() !== "",
  );
  const invalid = errors.length > 0;

  const ownDescribedBy = isValidElement(children)
    ? children.props["aria-describedby"]
    : undefined;
  const describedBy =
    [ownDescribedBy, hint ? hintId : null, invalid ? errorId : null]
      .filter(Boolean)
      .join(" ") || undefined;

  // Only defined keys, so a control's own props are not overwritten with undefined.
  const controlProps: FieldControlProps = { id: controlId };
  if (describedBy) controlProps["aria-describedby"] = describedBy;
  if (invalid) controlProps["aria-invalid"] = true;
  if (required) controlProps["aria-required"] = true;

  const control =
    typeof children === "function"
      ? children(controlProps)
      : isValidElement(children)
        ? cloneElement(children, controlProps)
        : children;

  return (
    <div className={cn("flex flex-col gap-1.5", className)}>
      <Label htmlFor={controlId} optional={optional}>
        {label}
      </Label>
      {control}
      {hint ? (
        <p id={hintId} className="text-xs leading-4 text-fg-subtle">
          {hint}
        </p>
      ) : null}
      {invalid ? (
        <div
          id={errorId}
          className="flex flex-col gap-0.5 text-xs leading-4 font-medium text-danger-700"
        >
          {errors.map((message, i) => (
            <p key={i} className="flex items-start gap-1">
              <svg
                viewBox="0 0 16 16"
                aria-hidden="true"
                className="mt-px size-3.5 shrink-0 fill-current"
              >
                <path d="M8 1.5a6.5 6.5 0 1 0 0 13 6.5 6.5 0 0 0 0-13ZM7.25 4.75a.75.75 0 0 1 1.5 0v3.5a.75.75 0 0 1-1.5 0v-3.5ZM8 11.75a.875.875 0 1 1 0-1.75.875.875 0 0 1 0 1.75Z" />
              </svg>
              <span>{message}</span>
            </p>
          ))}
        </div>
      ) : null}
    </div>
  );
}
