/** Shared look for Input, Textarea, Select and CopyField. */
export const controlBase =
  "block w-full min-w-0 rounded-md border border-border-strong bg-surface text-sm text-fg shadow-xs " +
  "placeholder:text-gray-400 transition-[border-color,box-shadow] duration-100 " +
  "hover:border-gray-400/80 " +
  "focus:border-accent-500 focus:outline-none focus:ring-3 focus:ring-accent-500/15 " +
  "disabled:cursor-not-allowed disabled:bg-gray-50 disabled:text-fg-subtle disabled:hover:border-border-strong " +
  "aria-[invalid=true]:border-danger-500 aria-[invalid=true]:hover:border-danger-600 aria-[invalid=true]:focus:border-danger-500 aria-[invalid=true]:focus:ring-danger-500/15";
