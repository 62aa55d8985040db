/**
 * Runs once when the Next.js server process starts. Fails fast on bad configuration (invalid env, production
 * without its secrets) instead of failing on the first sign-in.
 */
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs") return;
  const { runtimeSecrets } = await import("./server/env");
  runtimeSecrets();
}
