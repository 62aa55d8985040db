import fs from "node:fs";
import path from "node:path";
import crypto from "node:crypto";
import { z } from "zod";

/**
 * The only reader of process.env. Everything else imports `env` (or the helpers below).
 *
 * Embedded default: no DATABASE_URL → PGlite under SWITCHBOARD_DATA_DIR (./data), and the runtime secrets are
 * generated into that folder on first start. Production (NODE_ENV=production with a PostgreSQL URL) requires the
 * secrets to be set and refuses to start without them.
 */
const emptyToUndefined = (value: unknown) => (value === "" ? undefined : value);
const optionalString = z.preprocess(emptyToUndefined, z.string().optional());

const EnvSchema = z.object({
  NODE_ENV: z.enum(["development", "production", "test"]).default("development"),
  PORT: z.preprocess(emptyToUndefined, z.coerce.number().int().min(1).max(65535).default(3000)),
  DATABASE_URL: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "DATABASE_URL must be a postgresql:// URL (leave it unset for the embedded database)")
      .optional(),
  ),
  /**
   * Connections per process on PostgreSQL, for Prisma and again for the kernel's statements. Unset: twice this
   * machine's cores, from 2 to 10 — more connections than cores make every statement slower (measured in bench/).
   */
  DATABASE_POOL_SIZE: z.preprocess(
    emptyToUndefined,
    z.coerce.number("DATABASE_POOL_SIZE must be a whole number of connections, e.g. 4").int("DATABASE_POOL_SIZE must be a whole number of connections, e.g. 4").min(2, "DATABASE_POOL_SIZE must be at least 2").max(200, "DATABASE_POOL_SIZE must be at most 200").optional(),
  ),
  DATABASE_URL_TEST: z.preprocess(emptyToUndefined, z.string().default("postgresql://postgres@127.0.0.1:5432/test")),
  SWITCHBOARD_DATA_DIR: z.preprocess(emptyToUndefined, z.string().default("./data")),
  NEXTAUTH_URL: optionalString,
  NEXTAUTH_SECRET: optionalString,
  SWITCHBOARD_ENCRYPTION_KEY: z.preprocess(
    emptyToUndefined,
    z
      .string()
      .regex(/^[0-9a-fA-F]{64}$/, "SWITCHBOARD_ENCRYPTION_KEY must be 64 hex characters (32 bytes): openssl rand -hex 32")
      .optional(),
  ),
  OIDC_ISSUER: optionalString,
  OIDC_CLIENT_ID: optionalString,
  OIDC_CLIENT_SECRET: optionalString,
  OIDC_NAME: z.preprocess(emptyToUndefined, z.string().default("Single sign-on")),
  SWITCHBOARD_INIT_ADMIN_EMAIL: z.preprocess(emptyToUndefined, z.email().optional()),
  SWITCHBOARD_INIT_ADMIN_PASSWORD: z.preprocess(emptyToUndefined, z.string().min(8).optional()),
  SWITCHBOARD_INIT_API_KEY: z.preprocess(
    emptyToUndefined,
    z.string().regex(/^sb_[A-Za-z0-9_-]{20,200}$/, "SWITCHBOARD_INIT_API_KEY must look like sb_ followed by at least 20 letters, digits, _ or -").optional(),
  ),
  /** Run a worker inside each web process. Always on for the embedded database; "0" turns it off on PostgreSQL. */
  SWITCHBOARD_WEB_WORKER: z.preprocess(emptyToUndefined, z.enum(["0", "1"]).default("1")),
  SWITCHBOARD_LOG_LEVEL: z.preprocess(emptyToUndefined, z.enum(["debug", "info", "warn", "error"]).default("info")),
  /** Embeddings for hybrid memory search; unset = full-text ranking only. */
  SWITCHBOARD_EMBEDDINGS_PROVIDER: z.preprocess(emptyToUndefined, z.enum(["openai", "ollama"], "SWITCHBOARD_EMBEDDINGS_PROVIDER must be openai or ollama (leave it unset for full-text search only)").optional()),
  SWITCHBOARD_EMBEDDINGS_URL: z.preprocess(emptyToUndefined, z.url("SWITCHBOARD_EMBEDDINGS_URL must be an http(s) URL").optional()),
  SWITCHBOARD_EMBEDDINGS_MODEL: optionalString,
  SWITCHBOARD_EMBEDDINGS_API_KEY: optionalString,
  /** When set, /api/metrics and a worker's /metrics require `Authorization: Bearer <token>`; unset = open. */
  SWITCHBOARD_METRICS_TOKEN: z.preprocess(emptyToUndefined, z.string().min(16, "SWITCHBOARD_METRICS_TOKEN must be at least 16 characters").optional()),
  /** OTLP/HTTP collector base URL (e.g. http://otel-collector:4318): when set, run traces are exported to <url>/v1/traces. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyToUndefined, z.url("OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://localhost:4318").optional()),
  /** Extra headers for the collector, as OpenTelemetry spells them: `key1=value1,key2=value2` (e.g. an API key). */
  OTEL_EXPORTER_OTLP_HEADERS: optionalString,
  OTEL_SERVICE_NAME: z.preprocess(emptyToUndefined, z.string().default("switchboard")),
});

export type Env = z.infer<typeof EnvSchema>;

function parseEnv(): Env {
  // Scripts (npm start, migrations, seed) see the same .env as Next.js does; real environment variables win.
  const dotenv = path.resolve(".env");
  if (fs.existsSync(dotenv)) process.loadEnvFile(dotenv);
  const parsed = EnvSchema.safeParse(process.env);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((issue) => `  - ${issue.path.join(".")}: ${issue.message}`);
    throw new Error(`Switchboard cannot start: invalid environment\n${lines.join("\n")}`);
  }
  return parsed.data;
}

export const env: Env = parseEnv();

export type DatabaseTarget = { kind: "postgres"; url: string } | { kind: "pglite"; dataDir: string };

export function databaseTarget(): DatabaseTarget {
  if (env.DATABASE_URL) return { kind: "postgres", url: env.DATABASE_URL };
  return { kind: "pglite", dataDir: path.resolve(env.SWITCHBOARD_DATA_DIR, "pglite") };
}

export function isProductionDeployment(): boolean {
  return env.NODE_ENV === "production" && Boolean(env.DATABASE_URL);
}

export interface RuntimeSecrets {
  nextAuthSecret: string;
  encryptionKey: Buffer;
}

let cachedSecrets: RuntimeSecrets | undefined;

/**
 * NEXTAUTH_SECRET and the Secret encryption key. On the embedded default they are generated once into
 * ./data/secrets.json (mode 0600) so a newcomer needs no configuration; in production they must come from env.
 */
export function runtimeSecrets(): RuntimeSecrets {
  if (cachedSecrets) return cachedSecrets;
  let nextAuthSecret = env.NEXTAUTH_SECRET;
  let encryptionKeyHex = env.SWITCHBOARD_ENCRYPTION_KEY;
  if (!nextAuthSecret || !encryptionKeyHex) {
    if (isProductionDeployment()) {
      const missing = [!nextAuthSecret && "NEXTAUTH_SECRET", !encryptionKeyHex && "SWITCHBOARD_ENCRYPTION_KEY"].filter(Boolean);
      throw new Error(
        `Switchboard refuses to start in production without ${missing.join(" and ")}. ` +
          "Generate them with `openssl rand -hex 32` and set them in the environment.",
      );
    }
    const file = path.resolve(env.SWITCHBOARD_DATA_DIR, "secrets.json");
    const stored = readGeneratedSecrets(file);
    nextAuthSecret ??= stored.nextAuthSecret;
    encryptionKeyHex ??= stored.encryptionKey;
  }
  cachedSecrets = { nextAuthSecret, encryptionKey: Buffer.from(encryptionKeyHex, "hex") };
  return cachedSecrets;
}

const GeneratedSecrets = z.object({ nextAuthSecret: z.string().min(32), encryptionKey: z.string().regex(/^[0-9a-f]{64}$/) });

function readGeneratedSecrets(file: string): z.infer<typeof GeneratedSecrets> {
  if (fs.existsSync(file)) {
    const parsed = GeneratedSecrets.safeParse(JSON.parse(fs.readFileSync(file, "utf8")));
    if (parsed.success) return parsed.data;
    throw new Error(`${file} is damaged; delete it to generate new secrets (existing sessions and Secrets become unreadable).`);
  }
  const generated = {
    nextAuthSecret: crypto.randomBytes(32).toString("hex"),
    encryptionKey: crypto.randomBytes(32).toString("hex"),
  };
  fs.mkdirSync(path.dirname(file), { recursive: true });
  // Processes starting together (a web server and workers on one data folder) must agree, and none may read a file
  // another is still writing: the secrets are written whole to a file of this process's own, then linked into place —
  // atomically, and only if no other process got there first; whoever loses reads the winner's complete file.
  const draft = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(draft, JSON.stringify(generated, null, 2), { mode: 0o600, flag: "wx" });
  try {
    fs.linkSync(draft, file);
    return generated;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    return GeneratedSecrets.parse(JSON.parse(fs.readFileSync(file, "utf8")));
  } finally {
    fs.rmSync(draft, { force: true });
  }
}
