import { execFileSync } from "node:child_process";
import path from "node:path";

// `prisma generate` needs PRISMA_SCHEMA_ENGINE_BINARY to point at an executable or it tries to download one.
const root = path.resolve(import.meta.dirname, "..");
execFileSync(process.execPath, [path.join(root, "node_modules/prisma/build/index.js"), "generate"], {
  cwd: root,
  stdio: "inherit",
  env: {
    ...process.env,
    PRISMA_SCHEMA_ENGINE_BINARY: path.join(root, "scripts/no-schema-engine.sh"),
    PRISMA_HIDE_UPDATE_MESSAGE: "1",
    CHECKPOINT_DISABLE: "1",
  },
});
