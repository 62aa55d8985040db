import { cn } from "@/lib/cn";
import { initialsOf, personName, type Person } from "./shared";

/** A small avatar with the person's name: "MS Maya Singh", or "you". */
export function AssigneeChip({ person, meId, className }: { person: Person; meId: string | null; className?: string }) {
  const mine = person.id === meId;
  return (
    <span className={cn("inline-flex min-w-0 items-center gap-1.5", className)} title={person.name ? `${person.name} (${person.email})` : person.email}>
      <span
        aria-hidden="true"
        className={cn(
          "flex size-4 shrink-0 items-center justify-center rounded-full text-[9px] leading-none font-semibold",
          mine ? "bg-accent-600 text-white" : "bg-gray-200 text-gray-700",
        )}
      >
        {initialsOf(person)}
      </span>
      <span className="truncate">{mine ? "you" : personName(person)}</span>
    </span>
  );
}
