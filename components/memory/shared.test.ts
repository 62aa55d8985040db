import { describe, expect, it } from "vitest";
import { DEFAULT_FILTERS, decodeEntities, expiryText, filtersFromParams, filtersToSearch, searchInputOf, splitHighlight } from "./shared";

describe("splitHighlight", () => {
  it("splits on mark tags and decodes the escaped text", () => {
    expect(splitHighlight("Pays by &lt;wire&gt; &amp; <mark>invoices</mark> on the 15th")).toEqual([
      { text: "Pays by <wire> & ", marked: false },
      { text: "invoices", marked: true },
      { text: " on the 15th", marked: false },
    ]);
  });

  it("never turns other markup into anything but text", () => {
    const parts = splitHighlight("&lt;img src=x onerror=alert(1)&gt; <b>bold</b> <mark>hit</mark>");
    expect(parts).toEqual([
      { text: "<img src=x onerror=alert(1)> <b>bold</b> ", marked: false },
      { text: "hit", marked: true },
    ]);
  });

  it("merges adjacent parts and drops empty ones", () => {
    expect(splitHighlight("<mark>email</mark><mark>s</mark> over phone")).toEqual([
      { text: "emails", marked: true },
      { text: " over phone", marked: false },
    ]);
    expect(splitHighlight("")).toEqual([]);
  });
});

describe("decodeEntities", () => {
  it("decodes named and numeric entities and leaves unknown ones", () => {
    expect(decodeEntities("O&#39;Brien &#x27;x&#x27; &quot;q&quot; &bogus; &amp;amp;")).toBe(`O'Brien 'x' "q" &bogus; &amp;`);
  });
});

describe("filters", () => {
  it("round-trips through the URL", () => {
    const filters = { ...DEFAULT_FILTERS, q: " invoice ", scope: "AGENT" as const, agentId: "a1", kind: "FACT" as const, pinned: true, superseded: true };
    const search = filtersToSearch(filters);
    expect(search).toBe("?q=invoice&scope=agent&agent=a1&kind=fact&pinned=1&superseded=1");
    expect(filtersFromParams(new URLSearchParams(search))).toEqual({ ...filters, q: "invoice" });
  });

  it("ignores values it does not know and maps to the search input", () => {
    const filters = filtersFromParams(new URLSearchParams("scope=team&kind=rumour"));
    expect(filters).toEqual(DEFAULT_FILTERS);
    expect(searchInputOf(filters)).toEqual({ q: undefined, scope: undefined, agentId: undefined, userId: undefined, kind: undefined, pinned: undefined, includeSuperseded: undefined, limit: 25 });
  });
});

describe("expiryText", () => {
  it("describes what is left", () => {
    const now = Date.UTC(2026, 0, 1);
    expect(expiryText(null, now)).toBeNull();
    expect(expiryText(new Date(now + 30 * 86_400_000), now)).toBe("expires in 30 d");
    expect(expiryText(new Date(now + 3 * 3_600_000), now)).toBe("expires in 3 h");
    expect(expiryText(new Date(now - 1), now)).toBe("expired");
  });
});
