import crypto from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptSecret, encryptSecret } from "./crypto";

describe("secret encryption", () => {
  const key = crypto.randomBytes(32);

  it("round-trips a value and never stores it in the clear", () => {
    const encrypted = encryptSecret("sk-live-abc123", key);
    expect(encrypted.ciphertext).not.toContain("sk-live");
    expect(decryptSecret(encrypted, key)).toBe("sk-live-abc123");
  });

  it("refuses a tampered ciphertext or the wrong key", () => {
    const encrypted = encryptSecret("value", key);
    const flipped = Buffer.from(encrypted.ciphertext, "base64");
    flipped[0] = (flipped[0] ?? 0) ^ 1;
    expect(() => decryptSecret({ ...encrypted, ciphertext: flipped.toString("base64") }, key)).toThrow();
    expect(() => decryptSecret(encrypted, crypto.randomBytes(32))).toThrow();
  });
});
