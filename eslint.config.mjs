import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  {
    ignores: [".next/**", ".next-*/**", "node_modules/**", "server/generated/**", "data/**", "test-results/**", "playwright-report/**", "next-env.d.ts", "**/*.mjs", "**/*.mts"],
  },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // Type-only imports vanish at build time; mixing them up pulls server modules into client bundles.
      "@typescript-eslint/consistent-type-imports": ["error", { prefer: "type-imports", fixStyle: "inline-type-imports" }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      // A promise passed to an onClick is silently dropped on rejection; void it on purpose instead.
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { attributes: false } }],
    },
  },
  {
    // The domain is plain functions: it must not know about transport or UI, so tests can call it directly.
    files: ["server/domain/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@trpc/*"], message: "server/domain must not import tRPC: throw DomainError instead." },
            { group: ["next", "next/*", "next-auth", "next-auth/*"], message: "server/domain must not import Next.js." },
            { group: ["react", "react-dom"], message: "server/domain must not import React." },
            { group: ["**/trpc/**", "@/server/trpc/*", "@/server/rest/*"], message: "The domain is called by transport, never the other way round." },
          ],
        },
      ],
    },
  },
  {
    // The browser must never reach the database or server-only modules; it talks to the server over tRPC.
    files: ["app/**/*.tsx", "components/**/*.tsx", "lib/**/*.ts", "lib/**/*.tsx"],
    ignores: ["app/**/layout.tsx", "app/**/page.tsx"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { group: ["@/server/*"], allowTypeImports: true, message: "Client code talks to the server through tRPC (lib/trpc), not by importing it." },
            { group: ["@prisma/*", "pg", "@electric-sql/*"], message: "The UI never touches the database." },
          ],
        },
      ],
    },
  },
  {
    // Runtime code is started by the worker, not by requests.
    files: ["server/runtime/**/*.ts"],
    rules: {
      "no-restricted-imports": ["error", { patterns: [{ group: ["@/server/trpc/*", "next/*"], message: "The runtime calls the domain directly." }] }],
    },
  },
  {
    files: ["**/*.test.ts", "e2e/**/*.ts"],
    rules: {
      "@typescript-eslint/no-non-null-assertion": "off",
    },
  },
);
