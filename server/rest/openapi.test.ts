import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { buildOpenApiDocument } from "./openapi";
import { endpoints } from "./endpoints";

const API_DIR = path.resolve(import.meta.dirname, "../../app/api");

/** Every route.ts under app/api/v1 (plus health and the inbound webhooks), as "METHOD /api/.../{param}". */
function routesOnDisk(): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name === "route.ts") {
        const route = "/api/" + path.relative(API_DIR, path.dirname(full)).replace(/\[([^\]]+)\]/g, "{$1}");
        const source = fs.readFileSync(full, "utf8");
        for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) {
          if (new RegExp(`export (const|async function|function) ${method}\\b`).test(source)) found.push(`${method} ${route}`);
        }
      }
    }
  };
  walk(path.join(API_DIR, "v1"));
  walk(path.join(API_DIR, "health"));
  walk(path.join(API_DIR, "hooks"));
  return found.sort();
}

describe("openapi.json", () => {
  it("documents exactly the REST routes that exist", () => {
    const documented = Object.values(endpoints).map((e) => `${e.method} ${e.path}`).sort();
    expect(documented).toEqual(routesOnDisk());
  });

  it("is a valid-looking OpenAPI 3 document with schemas for every operation", () => {
    const doc = buildOpenApiDocument() as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
    expect(doc.openapi).toBe("3.0.3");
    const run = doc.paths["/api/v1/runs/{id}"]?.get;
    expect(run?.responses["200"]).toBeDefined();
    expect(run?.responses["404"]).toBeDefined();
    expect(JSON.stringify(doc)).not.toContain("undefined");
  });
});
