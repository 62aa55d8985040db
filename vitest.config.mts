import path from "node:path";
import { defineConfig } from "vitest/config";

const alias = { "@": path.resolve(import.meta.dirname) };

export default defineConfig({
  // Tests never load CSS: an inline (empty) PostCSS config keeps Vite from loading Tailwind's native bindings.
  css: { postcss: { plugins: [] } },
  test: {
    projects: [
      {
        resolve: { alias },
        css: { postcss: { plugins: [] } },
        test: {
          name: "unit",
          include: ["**/*.test.ts"],
          exclude: ["**/*.integration.test.ts", "**/*.security.test.ts", "node_modules/**", "e2e/**", ".next/**", ".next-*/**"],
          environment: "node",
        },
      },
      {
        resolve: { alias },
        css: { postcss: { plugins: [] } },
        test: {
          name: "integration",
          include: ["**/*.integration.test.ts"],
          exclude: ["node_modules/**", "e2e/**", ".next/**", ".next-*/**"],
          environment: "node",
          globalSetup: ["server/testing/global-setup.ts"],
          testTimeout: 60_000,
          hookTimeout: 120_000,
          // Two cores: more workers only add PGlite start-up contention.
          maxWorkers: 2,
        },
      },
      {
        resolve: { alias },
        css: { postcss: { plugins: [] } },
        test: {
          // `npm run security`: cross-org access, fuzzing, SSRF, approval integrity, spend races, prompt injection.
          name: "security",
          include: ["**/*.security.test.ts"],
          exclude: ["node_modules/**", "e2e/**", ".next/**", ".next-*/**"],
          environment: "node",
          globalSetup: ["server/testing/global-setup.ts"],
          testTimeout: 120_000,
          hookTimeout: 120_000,
          maxWorkers: 2,
        },
      },
    ],
  },
});
