import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** Where every security test file drops its counts; `npm run security` reads and summarises them. */
export const SECURITY_RESULTS_DIR = path.resolve(import.meta.dirname, "..", "..", "test-results", "security");

export interface SecurityCountsFile {
  name: string;
  counts: Record<string, number>;
}

/**
 * Writes test-results/security/<name>.json so the `npm run security` summary can show what a security test
 * file actually exercised (a suite that silently tried nothing must be visible as "0 tried").
 */
export function recordSecurityCounts(name: string, counts: Record<string, number>): void {
  if (!/^[A-Za-z0-9._-]+$/.test(name)) {
    throw new Error(`Security report name "${name}" may only contain letters, digits, dots, dashes and underscores.`);
  }
  mkdirSync(SECURITY_RESULTS_DIR, { recursive: true });
  const file: SecurityCountsFile = { name, counts };
  writeFileSync(path.join(SECURITY_RESULTS_DIR, `${name}.json`), `${JSON.stringify(file, null, 2)}\n`);
}
