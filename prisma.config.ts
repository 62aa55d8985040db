import { defineConfig } from "prisma/config";

// Only `prisma generate` uses this file. Migrations run through scripts/migrate.ts (WASM schema engine), and the
// application picks its driver adapter in server/db.ts, so no datasource URL is needed here.
export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
});
