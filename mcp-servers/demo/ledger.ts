import fs from "node:fs";
import path from "node:path";

/**
 * The demo server's record of side effects: an append-only JSON-lines file. A file, not the database, because the
 * embedded database (PGlite) can be opened by one process only and this server runs as its own process.
 *
 * What must stay true:
 * - Every line is fsynced before the tool answers, so an acknowledged refund or email survives a crash.
 * - A line torn by a crash mid-write was never acknowledged: readers skip it, and the next append starts on a
 *   fresh line.
 * - Check-then-append is atomic across processes (a lock file), so one idempotency key records at most once even
 *   when two copies of the server run.
 */

export type DemoLedgerEntry =
  | {
      at: string;
      kind: "refund";
      idempotencyKey: string | null;
      orderId: string;
      amountUsd: number;
      refundId: string;
      result: unknown;
    }
  | {
      at: string;
      kind: "email";
      idempotencyKey: string | null;
      to: string;
      subject: string;
      body: string;
      messageId: string;
      result: unknown;
    };

export function readDemoLedger(file: string): DemoLedgerEntry[] {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  const entries: DemoLedgerEntry[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      entries.push(JSON.parse(line) as DemoLedgerEntry);
    } catch {
      // A torn line from a crash mid-append: never acknowledged, so never counted.
    }
  }
  return entries;
}

export function appendDemoLedger(file: string, entry: DemoLedgerEntry): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const fd = fs.openSync(file, "a+");
  try {
    const size = fs.fstatSync(fd).size;
    let prefix = "";
    if (size > 0) {
      const last = Buffer.alloc(1);
      fs.readSync(fd, last, 0, 1, size - 1);
      if (last.toString() !== "\n") prefix = "\n";
    }
    fs.writeSync(fd, `${prefix}${JSON.stringify(entry)}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

const LOCK_STALE_MS = 10_000;
const LOCK_WAIT_MS = 5_000;

/** Runs `fn` holding `<file>.lock` (created exclusively); a lock older than 10 s is considered abandoned. */
export async function withLedgerLock<T>(file: string, fn: () => T | Promise<T>): Promise<T> {
  const lock = `${file}.lock`;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      fs.closeSync(fs.openSync(lock, "wx"));
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      try {
        if (Date.now() - fs.statSync(lock).mtimeMs > LOCK_STALE_MS) fs.rmSync(lock, { force: true });
      } catch {
        // removed by its owner meanwhile
      }
      if (Date.now() > deadline) throw new Error("The demo ledger is busy; try again.", { cause: error });
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}
