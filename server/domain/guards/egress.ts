import dns from "node:dns";
import net from "node:net";
import { InvalidInput } from "../errors";

/**
 * Egress guard: which addresses Switchboard may open a connection to on behalf of an organisation (tool servers
 * today). Stops server-side request forgery: a tool server URL must not make Switchboard talk to itself, the
 * cloud metadata service or the private network behind it.
 *
 * What must stay true:
 * - Only http: and https: URLs. Hosts are normalised by the WHATWG URL parser first, so decimal (2852039166), hex
 *   (0x7f.1), octal (0177.0.0.1) and short (127.1) IPv4 forms are judged as the dotted address they mean.
 * - Every address a name resolves to is judged; one refused address refuses the name (a DNS answer mixing a
 *   public and a private address is an attack, not a configuration).
 * - IPv6 forms that embed an IPv4 address (mapped, compatible, SIIT, NAT64, 6to4) are judged by the IPv4 address
 *   they lead to.
 * - The only way past a refusal is the organisation's allow-list (`egressAllowHosts` in the governance settings):
 *   an exact host name, an IP address or a CIDR range, written by an admin.
 * - Connections are pinned: `pinnedLookup` resolves, judges and hands the socket exactly the addresses it judged,
 *   so a second DNS answer (rebinding) or a redirect never reaches an address nobody checked.
 */

export const ALLOWED_SCHEMES = ["http:", "https:"] as const;

/** What a DNS lookup returned: one address and its family (4 or 6). */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has. Injected by tests; production uses the system resolver. */
export type EgressLookup = (hostname: string) => Promise<readonly ResolvedAddress[]>;

export interface EgressPolicy {
  /** The organisation's allow-list: host names, IP addresses or CIDR ranges (see `normaliseAllowEntry`). */
  allowHosts: readonly string[];
  lookup?: EgressLookup;
}

/** A refused destination. An InvalidInput: the message says which host, why, and how an admin can allow it. */
export class EgressRefused extends InvalidInput {
  constructor(
    message: string,
    readonly host: string,
  ) {
    super(message, { url: [message] });
  }
}

/** The name could not be resolved (no such host, resolver down or too slow). Not a refusal: nothing was judged. */
export class EgressUnresolved extends Error {
  constructor(
    readonly host: string,
    options?: { cause?: unknown },
  ) {
    super(`Could not resolve ${host}`, options);
    this.name = "EgressUnresolved";
  }
}

export const systemLookup: EgressLookup = async (hostname) => dns.promises.lookup(hostname, { all: true, verbatim: true });

// ---------------------------------------------------------------------------------------------------------------
// Address classification

export type BlockedCategory =
  | "metadata"
  | "loopback"
  | "unspecified"
  | "private"
  | "shared"
  | "link-local"
  | "unique-local"
  | "multicast"
  | "broadcast"
  | "reserved";

export interface BlockedAddress {
  /** The address as judged (for an embedding IPv6 address, the IPv4 address it embeds). */
  address: string;
  category: BlockedCategory;
  /** Plain words, e.g. "a link-local/cloud-metadata address". */
  description: string;
  /** Set when `address` was found inside this IPv6 address. */
  embeddedIn?: string;
}

interface Range {
  cidr: string;
  category: BlockedCategory;
  description: string;
}

const D = {
  metadata: "a link-local/cloud-metadata address",
  loopback: "a loopback address",
  unspecified: "an unspecified (“this host”) address",
  private: "a private network address",
  shared: "a carrier-grade NAT (shared) address",
  linkLocal: "a link-local address",
  uniqueLocal: "a unique-local (private IPv6) address",
  multicast: "a multicast address",
  broadcast: "the broadcast address",
  reserved: "a reserved address",
  documentation: "a reserved (documentation) address",
  benchmarking: "a reserved (benchmarking) address",
} as const;

/** First match wins, so the specific entries (metadata, broadcast) come before the ranges that contain them. */
const IPV4_RANGES: Range[] = [
  { cidr: "169.254.169.254/32", category: "metadata", description: D.metadata }, // AWS, GCP, Azure, OpenStack
  { cidr: "100.100.100.200/32", category: "metadata", description: "a cloud-metadata address" }, // Alibaba Cloud
  { cidr: "192.0.0.192/32", category: "metadata", description: "a cloud-metadata address" }, // Oracle Cloud
  { cidr: "255.255.255.255/32", category: "broadcast", description: D.broadcast },
  { cidr: "0.0.0.0/8", category: "unspecified", description: D.unspecified },
  { cidr: "127.0.0.0/8", category: "loopback", description: D.loopback },
  { cidr: "10.0.0.0/8", category: "private", description: D.private },
  { cidr: "172.16.0.0/12", category: "private", description: D.private },
  { cidr: "192.168.0.0/16", category: "private", description: D.private },
  { cidr: "100.64.0.0/10", category: "shared", description: D.shared },
  { cidr: "169.254.0.0/16", category: "link-local", description: D.linkLocal },
  { cidr: "224.0.0.0/4", category: "multicast", description: D.multicast },
  { cidr: "240.0.0.0/4", category: "reserved", description: D.reserved },
  { cidr: "192.0.0.0/24", category: "reserved", description: D.reserved },
  { cidr: "192.0.2.0/24", category: "reserved", description: D.documentation },
  { cidr: "198.51.100.0/24", category: "reserved", description: D.documentation },
  { cidr: "203.0.113.0/24", category: "reserved", description: D.documentation },
  { cidr: "198.18.0.0/15", category: "reserved", description: D.benchmarking },
  { cidr: "192.88.99.0/24", category: "reserved", description: "a reserved (6to4 relay) address" },
];

/** Checked after the IPv4-embedding forms; anything outside 2000::/3 that is not listed here is "reserved". */
const IPV6_RANGES: Range[] = [
  { cidr: "fd00:ec2::254/128", category: "metadata", description: "a unique-local/cloud-metadata address" }, // AWS IMDS over IPv6
  { cidr: "::/128", category: "unspecified", description: D.unspecified },
  { cidr: "::1/128", category: "loopback", description: D.loopback },
  { cidr: "fc00::/7", category: "unique-local", description: D.uniqueLocal },
  { cidr: "fe80::/10", category: "link-local", description: D.linkLocal },
  { cidr: "fec0::/10", category: "private", description: "a site-local (private IPv6) address" },
  { cidr: "ff00::/8", category: "multicast", description: D.multicast },
  { cidr: "2001::/32", category: "reserved", description: "a reserved (Teredo tunnel) address" },
  { cidr: "2001:2::/48", category: "reserved", description: D.benchmarking },
  { cidr: "2001:10::/28", category: "reserved", description: D.reserved },
  { cidr: "2001:db8::/32", category: "reserved", description: D.documentation },
  { cidr: "3fff::/20", category: "reserved", description: D.documentation },
];

interface CompiledRange extends Range {
  list: net.BlockList;
}

function compile(ranges: Range[], family: "ipv4" | "ipv6"): CompiledRange[] {
  return ranges.map((range) => {
    const [network = "", prefix = ""] = range.cidr.split("/");
    const list = new net.BlockList();
    list.addSubnet(network, Number(prefix), family);
    return { ...range, list };
  });
}

const V4 = compile(IPV4_RANGES, "ipv4");
const V6 = compile(IPV6_RANGES, "ipv6");
const GLOBAL_UNICAST_V6 = new net.BlockList();
GLOBAL_UNICAST_V6.addSubnet("2000::", 3, "ipv6");

/** The eight 16-bit groups of an IPv6 address (with or without brackets, with a trailing dotted quad or not). */
export function ipv6Groups(text: string): number[] | null {
  const address = stripBrackets(text).split("%")[0] ?? "";
  if (net.isIP(address) !== 6) return null;
  let body = address;
  const tail: number[] = [];
  const lastColon = body.lastIndexOf(":");
  const last = body.slice(lastColon + 1);
  if (last.includes(".")) {
    const octets = last.split(".").map(Number);
    tail.push(((octets[0] ?? 0) << 8) | (octets[1] ?? 0), ((octets[2] ?? 0) << 8) | (octets[3] ?? 0));
    body = `${body.slice(0, lastColon + 1)}0:0`;
  }
  const [head = "", rest] = body.split("::");
  const parse = (part: string) => (part === "" ? [] : part.split(":").map((group) => parseInt(group, 16)));
  const left = parse(head);
  const right = rest === undefined ? [] : parse(rest);
  const fill = rest === undefined ? [] : new Array<number>(8 - left.length - right.length).fill(0);
  const groups = [...left, ...fill, ...right];
  if (tail.length === 2) groups.splice(6, 2, ...tail);
  return groups.length === 8 ? groups : null;
}

function v4FromGroups(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join(".");
}

/** The IPv4 address an IPv6 address leads to, and how it is embedded; null when it embeds none. */
function embeddedIpv4(groups: number[]): { v4: string; form: string } | null {
  const [g0 = 0, g1 = 0, g2 = 0, g3 = 0, g4 = 0, g5 = 0, g6 = 0, g7 = 0] = groups;
  const zeroPrefix = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0;
  if (zeroPrefix && g4 === 0 && g5 === 0xffff) return { v4: v4FromGroups(g6, g7), form: "IPv4-mapped" };
  if (zeroPrefix && g4 === 0xffff && g5 === 0) return { v4: v4FromGroups(g6, g7), form: "IPv4-translated" };
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0) return { v4: v4FromGroups(g6, g7), form: "NAT64" };
  if (g0 === 0x2002) return { v4: v4FromGroups(g1, g2), form: "6to4" };
  if (zeroPrefix && g4 === 0 && g5 === 0 && (g6 !== 0 || g7 > 1)) return { v4: v4FromGroups(g6, g7), form: "IPv4-compatible" };
  return null;
}

function classifyIpv4(address: string): BlockedAddress | null {
  const hit = V4.find((range) => range.list.check(address, "ipv4"));
  return hit ? { address, category: hit.category, description: hit.description } : null;
}

/**
 * Why Switchboard must not connect to `ip` (an IPv4 or IPv6 literal, brackets allowed), or null for a public
 * address. Throws nothing; a string that is not an IP address is "reserved" (never connect to what we cannot judge).
 */
export function classifyAddress(ip: string): BlockedAddress | null {
  const address = stripBrackets(ip);
  const family = net.isIP(address);
  if (family === 4) return classifyIpv4(address);
  const groups = family === 6 ? ipv6Groups(address) : null;
  if (!groups) return { address, category: "reserved", description: "not an IP address" };
  const embedded = embeddedIpv4(groups);
  if (embedded) {
    const inner = classifyIpv4(embedded.v4);
    if (inner) return { ...inner, embeddedIn: address };
    // The deprecated IPv4-compatible form has no valid use on today's networks.
    if (embedded.form === "IPv4-compatible") return { address, category: "reserved", description: "a deprecated IPv4-compatible address" };
    return null; // a public IPv4 address written in IPv6 form: the same public address
  }
  const hit = V6.find((range) => range.list.check(address, "ipv6"));
  if (hit) return { address, category: hit.category, description: hit.description };
  if (!GLOBAL_UNICAST_V6.check(address, "ipv6")) return { address, category: "reserved", description: D.reserved };
  return null;
}

// ---------------------------------------------------------------------------------------------------------------
// The allow-list

function stripBrackets(host: string): string {
  return host.startsWith("[") && host.endsWith("]") ? host.slice(1, -1) : host;
}

/** A host as compared with the allow-list: lowercase, without IPv6 brackets or the root's trailing dot. */
export function normaliseHost(host: string): string {
  return stripBrackets(host.trim().toLowerCase()).replace(/\.$/, "");
}

/** Canonical form of an IP address (e.g. "::FFFF:169.254.169.254" → "::ffff:a9fe:a9fe"), or null. */
function canonicalIp(text: string): string | null {
  const family = net.isIP(text);
  if (family === 4) return text;
  if (family !== 6) return null;
  try {
    return normaliseHost(new URL(`http://[${text}]/`).hostname);
  } catch {
    return null;
  }
}

/**
 * An allow-list entry in canonical form, or null when it is not one. Accepted: a host name ("mcp.internal",
 * IDN names become punycode), an IPv4 or IPv6 address (brackets optional, every form the URL parser accepts, e.g.
 * 0x7f.1 becomes 127.0.0.1), or a CIDR range ("10.0.0.0/24", "fd00::/8"). Not accepted: ports, paths, schemes,
 * wildcards.
 */
export function normaliseAllowEntry(raw: string): string | null {
  const entry = raw.trim().toLowerCase();
  if (entry === "" || entry.length > 253) return null;
  if (entry.includes("/")) {
    const [network = "", prefixText = "", extra] = entry.split("/");
    if (extra !== undefined || !/^\d{1,3}$/.test(prefixText)) return null;
    const ip = canonicalIp(stripBrackets(network));
    const prefix = Number(prefixText);
    if (!ip || prefix > (net.isIP(ip) === 4 ? 32 : 128)) return null;
    return `${ip}/${prefix}`;
  }
  const bare = stripBrackets(entry);
  if (net.isIPv6(bare)) return canonicalIp(bare);
  if (!/^[a-z0-9._\-\u0080-\uffff]+$/.test(entry)) return null; // no ports, paths, spaces or wildcards
  try {
    const url = new URL(`http://${entry}/`);
    if (url.port !== "" || url.username !== "" || url.pathname !== "/") return null;
    const host = normaliseHost(url.hostname);
    return host === "" ? null : host;
  } catch {
    return null;
  }
}

interface CompiledAllowList {
  hosts: Set<string>;
  addresses: net.BlockList;
}

function compileAllowList(entries: readonly string[]): CompiledAllowList {
  const hosts = new Set<string>();
  const addresses = new net.BlockList();
  for (const raw of entries) {
    const entry = normaliseAllowEntry(raw);
    if (!entry) continue;
    if (entry.includes("/")) {
      const [network = "", prefix = ""] = entry.split("/");
      addresses.addSubnet(network, Number(prefix), net.isIP(network) === 4 ? "ipv4" : "ipv6");
    } else if (net.isIP(entry)) {
      addresses.addAddress(entry, net.isIP(entry) === 4 ? "ipv4" : "ipv6");
      hosts.add(entry);
    } else {
      hosts.add(entry);
    }
  }
  return { hosts, addresses };
}

function addressAllowed(list: CompiledAllowList, address: string): boolean {
  const bare = stripBrackets(address);
  const family = net.isIP(bare);
  if (family === 0) return false;
  return list.addresses.check(bare, family === 4 ? "ipv4" : "ipv6");
}

// ---------------------------------------------------------------------------------------------------------------
// Judging URLs and names

const ALLOW_HINT = "an admin can allow-list it under Governance settings.";

/** E.g. "169.254.169.254 is a link-local/cloud-metadata address; an admin can …" (hosts are never capitalised). */
function refusal(host: string, blocked: BlockedAddress, viaName: boolean): EgressRefused {
  const address = blocked.embeddedIn ? `${blocked.embeddedIn}, which embeds ${blocked.address}` : blocked.address;
  const message = viaName
    ? `${host} resolves to ${address}, ${blocked.description}; ${ALLOW_HINT}`
    : blocked.embeddedIn
      ? `${blocked.embeddedIn} embeds ${blocked.address}, ${blocked.description}; ${ALLOW_HINT}`
      : `${blocked.address} is ${blocked.description}; ${ALLOW_HINT}`;
  return new EgressRefused(message, host);
}

/** Names that mean this machine whatever DNS says (RFC 6761): judged before any lookup. */
function isLoopbackName(host: string): boolean {
  return host === "localhost" || host.endsWith(".localhost") || host === "localhost.localdomain";
}

export interface CheckedUrl {
  url: URL;
  /** Normalised host (see normaliseHost). */
  host: string;
  /** True when the host is an IP address: there is nothing to resolve, the address was judged already. */
  literal: boolean;
  /** True when the host itself is on the allow-list: every address it resolves to is accepted. */
  hostAllowed: boolean;
}

/**
 * Judges what can be judged without DNS: the scheme, an IP-address host, loopback names. Throws EgressRefused.
 * A host name still has to go through `resolveChecked` (or `pinnedLookup`, which does it at connect time).
 */
export function checkUrl(target: string | URL, allowHosts: readonly string[]): CheckedUrl {
  let url: URL;
  try {
    url = target instanceof URL ? target : new URL(target);
  } catch {
    throw new EgressRefused("Enter an http:// or https:// URL, e.g. https://mcp.example.com/mcp.", String(target));
  }
  if (!(ALLOWED_SCHEMES as readonly string[]).includes(url.protocol)) {
    const scheme = url.protocol.replace(/:$/, "");
    throw new EgressRefused(`${scheme}: URLs are not allowed: Switchboard reaches tool servers over http:// or https:// only.`, url.hostname);
  }
  const host = normaliseHost(url.hostname);
  if (host === "") throw new EgressRefused("The URL has no host. Enter e.g. https://mcp.example.com/mcp.", host);
  const list = compileAllowList(allowHosts);
  const hostAllowed = list.hosts.has(host);
  const literal = net.isIP(host) !== 0;
  if (literal) {
    const blocked = classifyAddress(host);
    if (blocked && !hostAllowed && !addressAllowed(list, host)) throw refusal(host, blocked, false);
  } else if (isLoopbackName(host) && !hostAllowed) {
    throw new EgressRefused(`${host} is a loopback name (this machine); ${ALLOW_HINT}`, host);
  }
  return { url, host, literal, hostAllowed };
}

/**
 * Resolves a host name and judges every address. Returns the addresses (all accepted) or throws EgressRefused;
 * throws EgressUnresolved when the name does not resolve.
 */
export async function resolveChecked(host: string, policy: EgressPolicy): Promise<ResolvedAddress[]> {
  const name = normaliseHost(host);
  const list = compileAllowList(policy.allowHosts);
  let answers: readonly ResolvedAddress[];
  try {
    answers = await (policy.lookup ?? systemLookup)(name);
  } catch (error) {
    throw new EgressUnresolved(name, { cause: error });
  }
  if (answers.length === 0) throw new EgressUnresolved(name);
  if (list.hosts.has(name)) return [...answers];
  for (const answer of answers) {
    const blocked = classifyAddress(answer.address);
    if (blocked && !addressAllowed(list, answer.address)) throw refusal(name, blocked, true);
  }
  return [...answers];
}

/**
 * Judges a URL completely, resolving its host name: what registration calls. Throws EgressRefused, or
 * EgressUnresolved when the name does not resolve within `timeoutMs`.
 */
export async function checkEgressUrl(target: string | URL, policy: EgressPolicy, options: { timeoutMs?: number } = {}): Promise<CheckedUrl & { addresses: ResolvedAddress[] }> {
  const checked = checkUrl(target, policy.allowHosts);
  if (checked.literal) return { ...checked, addresses: [{ address: checked.host, family: net.isIP(checked.host) }] };
  const timeoutMs = options.timeoutMs ?? 5_000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new EgressUnresolved(checked.host, { cause: new Error(`no DNS answer within ${timeoutMs} ms`) })), timeoutMs);
  });
  try {
    const addresses = await Promise.race([resolveChecked(checked.host, policy), timeout]);
    return { ...checked, addresses };
  } finally {
    clearTimeout(timer);
  }
}

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;

/**
 * A `lookup` for net/http/https sockets that resolves with `policy`, judges every address and hands the socket
 * only what it judged: the connection goes to a validated address, and a name that re-resolves to a private one
 * (DNS rebinding) is refused at connect time. Answers both call shapes Node uses (`all: true` or a single address).
 */
export function pinnedLookup(policy: EgressPolicy) {
  return (hostname: string, options: { all?: boolean; family?: number | string } | number, callback: LookupCallback): void => {
    const wantAll = typeof options === "object" && options.all === true;
    const wantFamily = typeof options === "object" ? Number(options.family ?? 0) : Number(options);
    resolveChecked(hostname, policy).then(
      (answers) => {
        const usable = wantFamily === 4 || wantFamily === 6 ? answers.filter((a) => a.family === wantFamily) : answers;
        if (usable.length === 0) {
          callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: "ENOTFOUND" }), wantAll ? [] : "");
          return;
        }
        if (wantAll) callback(null, usable.map((a) => ({ address: a.address, family: a.family })));
        else callback(null, usable[0]?.address ?? "", usable[0]?.family ?? 4);
      },
      (error: unknown) => {
        if (error instanceof EgressUnresolved) {
          const cause = error.cause as NodeJS.ErrnoException | undefined;
          callback(Object.assign(new Error(`getaddrinfo ${cause?.code ?? "ENOTFOUND"} ${hostname}`), { code: cause?.code ?? "ENOTFOUND" }), wantAll ? [] : "");
        } else {
          callback(error as NodeJS.ErrnoException, wantAll ? [] : "");
        }
      },
    );
  };
}
