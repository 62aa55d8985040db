import { clsx, type ClassValue } from "clsx";

export type { ClassValue };

/**
 * Joins class names, dropping falsy values. Accepts strings, arrays and
 * `{ "class": condition }` objects (clsx semantics). There is no Tailwind
 * conflict resolution: when overriding a primitive's class, pass a class that
 * does not collide, or rely on the override being more specific.
 */
export function cn(...inputs: ClassValue[]): string {
  return clsx(inputs);
}
