/**
 * Runs once when the Next.js server process starts. Fails fast on bad configuration (invalid env, production
 * without its secrets) instead of failing on the first sign-in, then starts the in-process worker.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { runtimeSecrets } = await import("./server/env");
  runtimeSecrets();
  const { startWebWorker } = await import("./server/runtime/web-worker");
  await startWebWorker();
}
