import { describe, expect, it } from "vitest";
import { assignModelNames } from "./model-names";

describe("assignModelNames", () => {
  it("keeps a tool's own name when no other granted tool shares it", () => {
    expect(assignModelNames([{ serverName: "demo", name: "lookup_order" }, { serverName: "filesystem", name: "read_file" }])).toEqual([
      "lookup_order",
      "read_file",
    ]);
  });

  it("qualifies every tool of a shared name with its server", () => {
    expect(
      assignModelNames([
        { serverName: "crm", name: "search" },
        { serverName: "wiki", name: "search" },
        { serverName: "crm", name: "get_contact" },
      ]),
    ).toEqual(["crm__search", "wiki__search", "get_contact"]);
  });

  it("replaces characters providers refuse and keeps names unique and at most 64 long", () => {
    const names = assignModelNames([
      { serverName: "x", name: "files.read" },
      { serverName: "x", name: "files_read" },
      { serverName: "y", name: "a".repeat(80) },
    ]);
    expect(names).toEqual(["x__files_read", "x__files_read_2", "a".repeat(64)]);
    for (const name of names) expect(name).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
});
