import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Native/WASM database drivers must be loaded by Node at run time, not bundled.
  serverExternalPackages: [
    "@electric-sql/pglite",
    // Loads its extension tarball beside its own module (import.meta.url): bundling would move the module.
    "@electric-sql/pglite-pgvector",
    "pglite-prisma-adapter",
    "@prisma/adapter-pg",
    "pg",
    "@modelcontextprotocol/sdk",
    "bcryptjs",
    // pdf.js (PDF text extraction for knowledge uploads) loads its own modules at run time.
    "unpdf",
    // One metrics registry per process (on globalThis), shared by the in-process worker and /api/metrics.
    "prom-client",
    "@opentelemetry/exporter-trace-otlp-http",
    "@opentelemetry/sdk-trace",
  ],
  // Lets several dev servers share one checkout (each with its own build folder); the default is .next.
  distDir: process.env.NEXT_DIST_DIR || ".next",
  poweredByHeader: false,
  typedRoutes: false,
};

export default nextConfig;
