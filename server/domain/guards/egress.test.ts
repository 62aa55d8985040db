import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEgressFetch } from "./egress-fetch";
import {
  checkEgressUrl,
  checkUrl,
  classifyAddress,
  EgressRefused,
  EgressUnresolved,
  ipv6Groups,
  normaliseAllowEntry,
  pinnedLookup,
  type EgressLookup,
} from "./egress";

function refusedBy(action: () => unknown): EgressRefused {
  try {
    action();
  } catch (error) {
    if (error instanceof EgressRefused) return error;
    throw error;
  }
  throw new Error("expected an EgressRefused");
}

const dnsOf =
  (table: Record<string, string[]>): EgressLookup =>
  (hostname) => {
    const answers = table[hostname];
    if (!answers) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }));
    return Promise.resolve(answers.map((address) => ({ address, family: address.includes(":") ? 6 : 4 })));
  };

describe("classifyAddress", () => {
  it.each([
    ["127.0.0.1", "loopback"],
    ["127.255.0.9", "loopback"],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["10.1.2.3", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["100.64.0.1", "shared"],
    ["100.127.255.254", "shared"],
    ["169.254.169.254", "metadata"],
    ["100.100.100.200", "metadata"],
    ["169.254.1.1", "link-local"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["255.255.255.255", "broadcast"],
    ["240.0.0.1", "reserved"],
    ["192.0.2.10", "reserved"],
    ["198.18.0.1", "reserved"],
    ["::1", "loopback"],
    ["::", "unspecified"],
    ["fe80::1", "link-local"],
    ["febf:ffff::1", "link-local"],
    ["fc00::1", "unique-local"],
    ["fd12:3456::1", "unique-local"],
    ["fd00:ec2::254", "metadata"],
    ["fec0::1", "private"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "reserved"],
    ["100::1", "reserved"],
    ["[::1]", "loopback"],
  ])("refuses %s as %s", (address, category) => {
    expect(classifyAddress(address)?.category).toBe(category);
  });

  it.each(["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "169.253.255.255", "192.169.0.1", "2606:4700:4700::1111", "2a00:1450:4001::200e"])(
    "accepts the public address %s",
    (address) => {
      expect(classifyAddress(address)).toBeNull();
    },
  );

  it("judges IPv6 forms by the IPv4 address they embed", () => {
    expect(classifyAddress("::ffff:169.254.169.254")).toMatchObject({ address: "169.254.169.254", category: "metadata", embeddedIn: "::ffff:169.254.169.254" });
    expect(classifyAddress("::ffff:a9fe:a9fe")).toMatchObject({ address: "169.254.169.254", category: "metadata" });
    expect(classifyAddress("::ffff:7f00:1")).toMatchObject({ address: "127.0.0.1", category: "loopback" });
    expect(classifyAddress("::ffff:0:a00:1")).toMatchObject({ address: "10.0.0.1", category: "private" }); // SIIT
    expect(classifyAddress("::7f00:1")).toMatchObject({ address: "127.0.0.1", category: "loopback" }); // IPv4-compatible
    expect(classifyAddress("::127.0.0.1")).toMatchObject({ address: "127.0.0.1", category: "loopback" });
    expect(classifyAddress("64:ff9b::a9fe:a9fe")).toMatchObject({ address: "169.254.169.254", category: "metadata" }); // NAT64
    expect(classifyAddress("64:ff9b::10.0.0.1")).toMatchObject({ address: "10.0.0.1", category: "private" });
    expect(classifyAddress("2002:7f00:1::")).toMatchObject({ address: "127.0.0.1", category: "loopback" }); // 6to4
    expect(classifyAddress("2002:c0a8:101::1")).toMatchObject({ address: "192.168.1.1", category: "private" });
    // A public IPv4 address written as IPv6 is that public address; the deprecated compatible form never is.
    expect(classifyAddress("::ffff:8.8.8.8")).toBeNull();
    expect(classifyAddress("64:ff9b::808:808")).toBeNull();
    expect(classifyAddress("2002:808:808::1")).toBeNull();
    expect(classifyAddress("::8.8.8.8")).toMatchObject({ category: "reserved" });
  });

  it("never accepts what is not an IP address", () => {
    expect(classifyAddress("example.com")).toMatchObject({ category: "reserved" });
    expect(classifyAddress("")).toMatchObject({ category: "reserved" });
  });

  it("expands IPv6 addresses to eight groups", () => {
    expect(ipv6Groups("::1")).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(ipv6Groups("[fd00:ec2::254]")).toEqual([0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254]);
    expect(ipv6Groups("::ffff:1.2.3.4")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
    expect(ipv6Groups("1:2:3:4:5:6:7:8")).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(ipv6Groups("1.2.3.4")).toBeNull();
  });
});

describe("checkUrl", () => {
  it("refuses schemes other than http and https with a clear message", () => {
    for (const url of ["file:///etc/passwd", "gopher://127.0.0.1:70/_x", "ftp://files.example.com/", "data:text/plain,hi", "javascript:alert(1)"]) {
      const scheme = url.split(":")[0];
      expect(refusedBy(() => checkUrl(url, [])).message).toBe(
        `${scheme}: URLs are not allowed: Switchboard reaches tool servers over http:// or https:// only.`,
      );
    }
    expect(refusedBy(() => checkUrl("not a url", [])).message).toMatch(/Enter an http:\/\/ or https:\/\/ URL/);
  });

  it("normalises decimal, hex, octal and short IPv4 spellings before judging them", () => {
    expect(refusedBy(() => checkUrl("http://2852039166/", [])).message).toBe(
      "169.254.169.254 is a link-local/cloud-metadata address; an admin can allow-list it under Governance settings.",
    );
    expect(refusedBy(() => checkUrl("http://0x7f.1/", [])).host).toBe("127.0.0.1");
    expect(refusedBy(() => checkUrl("http://0177.0.0.1/", [])).host).toBe("127.0.0.1");
    expect(refusedBy(() => checkUrl("http://127.1:8080/", [])).host).toBe("127.0.0.1");
    expect(refusedBy(() => checkUrl("http://0/", [])).message).toMatch(/^0\.0\.0\.0 is an unspecified/);
    expect(refusedBy(() => checkUrl("http://[::ffff:169.254.169.254]/", [])).message).toBe(
      "::ffff:a9fe:a9fe embeds 169.254.169.254, a link-local/cloud-metadata address; an admin can allow-list it under Governance settings.",
    );
    expect(refusedBy(() => checkUrl("http://[fd00:ec2::254]/", [])).message).toMatch(/^fd00:ec2::254 is a unique-local\/cloud-metadata address/);
  });

  it("refuses loopback names before any DNS lookup", () => {
    for (const url of ["http://localhost:3000/", "http://localhost.:3000/", "http://LOCALHOST/", "http://api.localhost/"]) {
      expect(refusedBy(() => checkUrl(url, [])).message).toMatch(/is a loopback name \(this machine\); an admin can allow-list it/);
    }
  });

  it("lets the allow-list through: exact names, addresses in any spelling and CIDR ranges", () => {
    expect(checkUrl("http://localhost.:3000/", ["localhost"]).hostAllowed).toBe(true);
    expect(checkUrl("http://0x7f.1/", ["127.0.0.1"]).literal).toBe(true);
    expect(checkUrl("http://10.1.2.3/", ["10.0.0.0/8"]).host).toBe("10.1.2.3");
    expect(checkUrl("http://[::ffff:a9fe:a9fe]/", ["169.254.169.254"]).host).toBe("::ffff:a9fe:a9fe");
    expect(checkUrl("http://[fd00:ec2::254]/", ["fd00::/8"]).host).toBe("fd00:ec2::254");
    // An entry allows exactly what it names.
    expect(() => checkUrl("http://10.0.0.2/", ["10.0.0.1"])).toThrow(EgressRefused);
    expect(() => checkUrl("http://api.localhost/", ["localhost"])).toThrow(EgressRefused);
  });

  it("accepts public hosts without any allow-list", () => {
    expect(checkUrl("https://mcp.example.com/mcp", [])).toMatchObject({ host: "mcp.example.com", literal: false, hostAllowed: false });
    expect(checkUrl("http://8.8.8.8/mcp", [])).toMatchObject({ literal: true });
  });
});

describe("normaliseAllowEntry", () => {
  it.each([
    ["MCP.Internal.", "mcp.internal"],
    ["  10.0.0.5 ", "10.0.0.5"],
    ["0x7f.1", "127.0.0.1"],
    ["[::1]", "::1"],
    ["::FFFF:169.254.169.254", "::ffff:a9fe:a9fe"],
    ["10.0.0.0/24", "10.0.0.0/24"],
    ["FD00::/8", "fd00::/8"],
    ["bücher.example", "xn--bcher-kva.example"],
  ])("%s → %s", (raw, expected) => {
    expect(normaliseAllowEntry(raw)).toBe(expected);
  });

  it.each(["", "http://mcp.internal", "mcp.internal:8080", "mcp.internal/path", "*.internal", "10.0.0.0/33", "::/129", "10.0.0.0/8/1", "two words"])(
    "refuses %j",
    (raw) => {
      expect(normaliseAllowEntry(raw)).toBeNull();
    },
  );
});

describe("checkEgressUrl (registration)", () => {
  const lookup = dnsOf({
    "evil.example": ["127.0.0.1"],
    "mixed.example": ["93.184.216.34", "10.0.0.7"],
    "meta.example": ["::ffff:169.254.169.254"],
    "public.example": ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"],
  });

  it("judges every address a name resolves to", async () => {
    await expect(checkEgressUrl("http://evil.example/mcp", { allowHosts: [], lookup })).rejects.toThrow(
      "evil.example resolves to 127.0.0.1, a loopback address; an admin can allow-list it under Governance settings.",
    );
    await expect(checkEgressUrl("http://mixed.example/", { allowHosts: [], lookup })).rejects.toThrow(/resolves to 10\.0\.0\.7, a private network address/);
    await expect(checkEgressUrl("http://meta.example/", { allowHosts: [], lookup })).rejects.toThrow(
      "meta.example resolves to ::ffff:169.254.169.254, which embeds 169.254.169.254, a link-local/cloud-metadata address;",
    );
    const ok = await checkEgressUrl("https://public.example/mcp", { allowHosts: [], lookup });
    expect(ok.addresses.map((a) => a.address)).toEqual(["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"]);
  });

  it("allows a resolved private address only when its name or address is allow-listed", async () => {
    await expect(checkEgressUrl("http://evil.example/", { allowHosts: ["evil.example"], lookup })).resolves.toMatchObject({ hostAllowed: true });
    await expect(checkEgressUrl("http://evil.example/", { allowHosts: ["127.0.0.0/8"], lookup })).resolves.toMatchObject({ hostAllowed: false });
    await expect(checkEgressUrl("http://mixed.example/", { allowHosts: ["10.0.0.8"], lookup })).rejects.toThrow(EgressRefused);
  });

  it("reports a name that does not resolve as unresolved, not refused", async () => {
    await expect(checkEgressUrl("http://nowhere.example/", { allowHosts: [], lookup })).rejects.toThrow(EgressUnresolved);
    const slow: EgressLookup = () => new Promise(() => {});
    await expect(checkEgressUrl("http://slow.example/", { allowHosts: [], lookup: slow }, { timeoutMs: 50 })).rejects.toThrow(EgressUnresolved);
  });
});

describe("pinnedLookup", () => {
  it("answers both call shapes Node uses and refuses blocked answers", async () => {
    const lookup = pinnedLookup({ allowHosts: [], lookup: dnsOf({ "ok.example": ["93.184.216.34"], "evil.example": ["10.0.0.1"] }) });
    const call = (host: string, options: { all?: boolean; family?: number }) =>
      new Promise<unknown>((resolve, reject) => lookup(host, options, (error, address, family) => (error ? reject(error) : resolve({ address, family }))));
    await expect(call("ok.example", { all: true })).resolves.toEqual({ address: [{ address: "93.184.216.34", family: 4 }], family: undefined });
    await expect(call("ok.example", {})).resolves.toEqual({ address: "93.184.216.34", family: 4 });
    await expect(call("ok.example", { family: 6 })).rejects.toMatchObject({ code: "ENOTFOUND" });
    await expect(call("evil.example", { all: true })).rejects.toBeInstanceOf(EgressRefused);
    await expect(call("missing.example", {})).rejects.toMatchObject({ code: "ENOTFOUND" });
  });
});

describe("createEgressFetch", () => {
  let hits = 0;
  let server: http.Server;
  let port = 0;
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      hits += 1;
      if (request.url === "/hop") {
        response.writeHead(302, { location: `http://127.0.0.1:${port}/final` }).end();
        return;
      }
      let body = "";
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("end", () => response.writeHead(200, { "content-type": "text/plain", "x-seen": request.headers["x-api-key"] ?? "" }).end(`${request.method} ${request.url} ${body}`));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it("refuses a blocked host without sending anything", async () => {
    const fetch = createEgressFetch({ allowHosts: [] });
    const before = hits;
    await expect(fetch(`http://127.0.0.1:${port}/`)).rejects.toBeInstanceOf(EgressRefused);
    await expect(fetch(`http://localhost:${port}/`)).rejects.toBeInstanceOf(EgressRefused);
    const rebinding = createEgressFetch({ allowHosts: [], lookup: dnsOf({ "evil.example": ["127.0.0.1"] }) });
    await expect(rebinding(`http://evil.example:${port}/`)).rejects.toBeInstanceOf(EgressRefused);
    expect(hits).toBe(before);
    fetch.close();
    rebinding.close();
  });

  it("talks to an allow-listed host: bodies, headers, statuses", async () => {
    const fetch = createEgressFetch({ allowHosts: ["127.0.0.1"] });
    const response = await fetch(`http://127.0.0.1:${port}/echo?x=1`, { method: "POST", body: "hello", headers: { "X-Api-Key": "k" } });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-seen")).toBe("k");
    expect(await response.text()).toBe("POST /echo?x=1 hello");
    fetch.close();
  });

  it("connects a name to the address the pinned lookup judged", async () => {
    const fetch = createEgressFetch({ allowHosts: ["127.0.0.1"], lookup: dnsOf({ "tools.example": ["127.0.0.1"] }) });
    expect(await (await fetch(`http://tools.example:${port}/named`)).text()).toBe("GET /named ");
    fetch.close();
  });

  it("follows redirects only to targets that pass the guard", async () => {
    const both = createEgressFetch({ allowHosts: ["127.0.0.1"] });
    expect(await (await both(`http://127.0.0.1:${port}/hop`)).text()).toBe("GET /final ");
    const manual = await both(`http://127.0.0.1:${port}/hop`, { redirect: "manual" });
    expect(manual.status).toBe(302);
    await expect(both(`http://127.0.0.1:${port}/hop`, { redirect: "error" })).rejects.toThrow(/redirect: "error"/);
    both.close();

    // The first hop is allow-listed by name (resolving to 127.0.0.1); its redirect target 127.0.0.1 is not.
    const onlyName = createEgressFetch({ allowHosts: ["front.example"], lookup: dnsOf({ "front.example": ["127.0.0.1"] }) });
    const before = hits;
    await expect(onlyName(`http://front.example:${port}/hop`)).rejects.toThrow(
      `Redirect from http://front.example:${port} refused: 127.0.0.1 is a loopback address; an admin can allow-list it under Governance settings.`,
    );
    expect(hits).toBe(before + 1); // the redirecting hop only; the target was never contacted
    onlyName.close();
  });

  it("honours an abort signal", async () => {
    const fetch = createEgressFetch({ allowHosts: ["127.0.0.1"] });
    const controller = new AbortController();
    controller.abort(new Error("stop"));
    await expect(fetch(`http://127.0.0.1:${port}/`, { signal: controller.signal })).rejects.toThrow("stop");
    fetch.close();
  });
});
