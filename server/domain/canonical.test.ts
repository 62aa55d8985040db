import { describe, expect, it } from "vitest";
import { canonicalJson, hashCanonical } from "./canonical";

describe("canonicalJson", () => {
  // Audit entries already stored are verified by hashing them again: this form must never change.
  it("serialises a value exactly as the audit chain has always hashed it", () => {
    const parsed = JSON.parse(
      '{"b":1,"a":{"z":[3,{"y":null,"x":"é"}],"10":"ten","2":"two","__proto__":{"k":1}},"A":true,"_":"","aa":[]}',
    ) as Record<string, unknown>;
    const value = { ...parsed, when: new Date("2026-01-02T03:04:05.678Z"), gone: undefined, nested: { u: undefined, v: 1 } };
    expect(canonicalJson(value)).toBe(
      '{"A":true,"_":"","a":{"2":"two","10":"ten","__proto__":{"k":1},"z":[3,{"x":"é","y":null}]},"aa":[],"b":1,"nested":{"v":1},"when":"2026-01-02T03:04:05.678Z"}',
    );
    expect(hashCanonical(value)).toBe("e8d7f0a5bcbc536cd98c057048e72641a4ef4a0ba0f98d7c6984a7ad6c605a28");
  });

  it("gives equal values the same form whatever their key order", () => {
    expect(canonicalJson({ x: { b: 2, a: [1, { d: 4, c: 3 }] }, w: "w" })).toBe(
      canonicalJson({ w: "w", x: { a: [1, { c: 3, d: 4 }], b: 2 } }),
    );
  });
});
