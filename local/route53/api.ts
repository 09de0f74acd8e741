// The Route 53 API (REST-XML, `/2013-04-01/...`), answered from Route53State, the health
// checkers and the Answerer: the same records and checks that serve DNS. Operations, with the
// shapes of the Route 53 API Reference:
//   GET /2013-04-01/hostedzonesbyname?dnsname=&hostedzoneid=&maxitems=     ListHostedZonesByName
//   GET /2013-04-01/hostedzone/{Id}/rrset?name=&type=&identifier=&maxitems= ListResourceRecordSets
//   GET /2013-04-01/healthcheck/{HealthCheckId}                            GetHealthCheck
//   GET /2013-04-01/healthcheck/{HealthCheckId}/status                     GetHealthCheckStatus
//   GET /2013-04-01/testdnsanswer?hostedzoneid=&recordname=&recordtype=&resolverip=&edns0clientsubnetip=&edns0clientsubnetmask=
//                                                                         TestDNSAnswer
// An edge service: the edge checks the signature and IAM (route53:<Operation> on the hosted zone's
// or health check's ARN) before the answer is made here.
import { randomUUID } from "node:crypto";
import { isIP } from "node:net";
import { xmlEscape as escapeXml } from "../lib/aws-protocols";
import { AwsServiceError } from "../lib/aws-wire";
import type { HttpResponse } from "../lib/http-serve";
import type { EdgeCall, EdgeService, Requirement } from "../edge/types";
import { ZONE_NAME_SERVER, zoneSoa, type Answerer } from "./answer";
import type { HealthCheckStatus } from "./health-checker";
import { normalizeName, type RecordSet, type Route53State } from "./state";

const XMLNS = "https://route53.amazonaws.com/doc/2013-04-01/";
const VERSION = "/2013-04-01";
/** TestDNSAnswer without ResolverIP uses "a DNS resolver in the AWS US East (N. Virginia) Region". */
const DEFAULT_RESOLVER_REGION = "us-east-1";
/** The region Route 53 names for the local cloud's one health checker. */
const CHECKER_REGION = "us-east-1";
const RECORD_TYPES = new Set(["SOA", "A", "TXT", "NS", "CNAME", "MX", "NAPTR", "PTR", "SRV", "SPF", "AAAA", "CAA", "DS", "TLSA", "SSHFP", "SVCB", "HTTPS"]);

export interface Route53ApiOptions {
  state: Route53State;
  answerer: Answerer;
  /** The health checkers' view of a check; undefined for a check they do not know (yet). */
  healthStatus(healthCheckId: string): HealthCheckStatus | undefined;
  /** The region a client address is nearest to (client-regions.ts); undefined when it is not known. */
  regionOfAddress(address: string): string | undefined;
}

class Route53Error extends AwsServiceError {}

interface HostedZone {
  id: string;
  name: string;
}

const tag = (name: string, value: string | number | boolean | undefined) => (value === undefined ? "" : `<${name}>${escapeXml(String(value))}</${name}>`);
const fqdn = (name: string) => `${name}.`;
/** Byte order, as Route 53 sorts (not the locale's). */
const byCode = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** Route 53 orders names by their labels from the right: com.example.api. */
const reversed = (name: string) => name.split(".").reverse().join(".");

export function route53Api(options: Route53ApiOptions): EdgeService {
  const zones = (): HostedZone[] =>
    [...options.state.zones.values()].filter((z): z is HostedZone => z.name !== undefined).sort((a, b) => byCode(reversed(a.name), reversed(b.name)) || byCode(a.id, b.id));

  const zone = (id: string): HostedZone => {
    const found = zones().find((z) => z.id === id.replace(/^\/hostedzone\//, ""));
    if (!found) throw new Route53Error("NoSuchHostedZone", `No hosted zone found with ID: ${id}`, 404);
    return found;
  };

  /** The record sets of a zone as ListResourceRecordSets lists them: the SOA at the apex, then by name, type and set identifier. */
  const recordSets = (z: HostedZone): RecordSet[] => {
    const soa = zoneSoa(z.name);
    const apex: RecordSet = { zoneId: z.id, name: z.name, type: "SOA", ttl: soa.ttl, records: [soa.data] };
    return [apex, ...options.state.records.filter((r) => r.zoneId === z.id)].sort(
      (a, b) =>
        byCode(reversed(a.name), reversed(b.name)) || byCode(a.type, b.type) || byCode(a.setIdentifier ?? "", b.setIdentifier ?? ""),
    );
  };

  const healthCheck = (id: string) => {
    const check = options.state.healthChecks.get(id);
    if (!check) throw new Route53Error("NoSuchHealthCheck", `A health check with id ${id} does not exist.`, 404);
    return check;
  };

  /** Per operation: its path, IAM action and resource, and the XML it answers. */
  const operations: Array<[RegExp, string, (match: RegExpExecArray) => string, (query: URLSearchParams, match: RegExpExecArray) => string]> = [
    [/^\/hostedzonesbyname$/, "ListHostedZonesByName", () => "*", (query) => listHostedZonesByName(query)],
    [/^\/hostedzone\/([^/]+)\/rrset$/, "ListResourceRecordSets", (m) => `arn:aws:route53:::hostedzone/${decodeURIComponent(m[1])}`, (query, match) => listResourceRecordSets(zone(decodeURIComponent(match[1])), query)],
    [/^\/healthcheck\/([^/]+)\/status$/, "GetHealthCheckStatus", (m) => `arn:aws:route53:::healthcheck/${decodeURIComponent(m[1])}`, (_query, match) => getHealthCheckStatus(decodeURIComponent(match[1]))],
    [/^\/healthcheck\/([^/]+)$/, "GetHealthCheck", (m) => `arn:aws:route53:::healthcheck/${decodeURIComponent(m[1])}`, (_query, match) => getHealthCheck(decodeURIComponent(match[1]))],
    [/^\/testdnsanswer$/, "TestDNSAnswer", () => "*", (query) => testDnsAnswer(query)],
  ];

  function listHostedZonesByName(query: URLSearchParams): string {
    const dnsName = query.get("dnsname");
    const afterId = query.get("hostedzoneid");
    if (afterId !== null && dnsName === null) throw new Route53Error("InvalidInput", "HostedZoneId requires DNSName");
    const maxItems = maxItemsOf(query, 100);
    const start = dnsName === null ? "" : reversed(normalizeName(dnsName));
    const listed = zones().filter((z) => reversed(z.name) > start || (reversed(z.name) === start && (afterId === null || z.id >= afterId)));
    const page = listed.slice(0, maxItems);
    const next = listed[maxItems];
    return (
      `<ListHostedZonesByNameResponse xmlns="${XMLNS}"><HostedZones>` +
      page
        .map(
          (z) =>
            `<HostedZone>${tag("Id", `/hostedzone/${z.id}`)}${tag("Name", fqdn(z.name))}${tag("CallerReference", `local-cloud-${z.id}`)}` +
            `<Config><PrivateZone>false</PrivateZone></Config>${tag("ResourceRecordSetCount", recordSets(z).length)}</HostedZone>`,
        )
        .join("") +
      `</HostedZones>${tag("DNSName", dnsName ?? undefined)}${tag("HostedZoneId", afterId ?? undefined)}${tag("IsTruncated", next !== undefined)}` +
      `${tag("NextDNSName", next && fqdn(next.name))}${tag("NextHostedZoneId", next?.id)}${tag("MaxItems", maxItems)}</ListHostedZonesByNameResponse>`
    );
  }

  function listResourceRecordSets(z: HostedZone, query: URLSearchParams): string {
    const name = query.get("name");
    const type = query.get("type");
    const identifier = query.get("identifier");
    if (type !== null && name === null) throw new Route53Error("InvalidInput", "Type can only be specified with name");
    if (type !== null && !RECORD_TYPES.has(type)) throw new Route53Error("InvalidInput", `Invalid type: ${type}`);
    if (identifier !== null && type === null) throw new Route53Error("InvalidInput", "Identifier can only be specified with name and type");
    const maxItems = maxItemsOf(query, 300);
    const all = recordSets(z);
    const startKey = name === null ? undefined : [reversed(normalizeName(name)), type ?? "", identifier ?? ""];
    const from = startKey === undefined ? 0 : all.findIndex((r) => compareKeys([reversed(r.name), r.type, r.setIdentifier ?? ""], startKey) >= 0);
    const listed = from < 0 ? [] : all.slice(from);
    const page = listed.slice(0, maxItems);
    const next = listed[maxItems];
    return (
      `<ListResourceRecordSetsResponse xmlns="${XMLNS}"><ResourceRecordSets>${page.map(recordSetXml).join("")}</ResourceRecordSets>` +
      `${tag("IsTruncated", next !== undefined)}${tag("NextRecordName", next && fqdn(next.name))}${tag("NextRecordType", next?.type)}` +
      `${tag("NextRecordIdentifier", next?.setIdentifier)}${tag("MaxItems", maxItems)}</ListResourceRecordSetsResponse>`
    );
  }

  function getHealthCheck(id: string): string {
    const check = healthCheck(id);
    return (
      `<GetHealthCheckResponse xmlns="${XMLNS}"><HealthCheck>${tag("Id", check.id)}${tag("CallerReference", `local-cloud-${check.id}`)}` +
      `<HealthCheckConfig>${tag("Port", check.port)}${tag("Type", check.type)}${tag("ResourcePath", check.resourcePath)}` +
      `${tag("FullyQualifiedDomainName", check.fqdn)}${tag("SearchString", check.searchString)}${tag("RequestInterval", check.requestInterval)}` +
      `${tag("FailureThreshold", check.failureThreshold)}</HealthCheckConfig>${tag("HealthCheckVersion", 1)}</HealthCheck></GetHealthCheckResponse>`
    );
  }

  /** What each checker saw last; the local cloud has one checker, so at most one observation. */
  function getHealthCheckStatus(id: string): string {
    healthCheck(id);
    const latest = options.healthStatus(id)?.observations[0];
    const observation = latest
      ? `<HealthCheckObservation>${tag("Region", CHECKER_REGION)}${tag("IPAddress", "127.0.0.1")}` +
        `<StatusReport>${tag("Status", latest.status)}${tag("CheckedTime", latest.checkedTime)}</StatusReport></HealthCheckObservation>`
      : "";
    return `<GetHealthCheckStatusResponse xmlns="${XMLNS}"><HealthCheckObservations>${observation}</HealthCheckObservations></GetHealthCheckStatusResponse>`;
  }

  function testDnsAnswer(query: URLSearchParams): string {
    const required = (name: string) => {
      const value = query.get(name);
      if (!value) throw new Route53Error("InvalidInput", `Missing required parameter ${name}`);
      return value;
    };
    const z = zone(required("hostedzoneid"));
    const recordName = required("recordname");
    const recordType = required("recordtype");
    if (!RECORD_TYPES.has(recordType)) throw new Route53Error("InvalidInput", `Invalid type: ${recordType}`);
    const resolverIp = query.get("resolverip");
    const subnetIp = query.get("edns0clientsubnetip");
    const mask = query.get("edns0clientsubnetmask");
    for (const [name, value] of [["resolverip", resolverIp], ["edns0clientsubnetip", subnetIp]] as const) {
      if (value !== null && isIP(value) === 0) throw new Route53Error("InvalidInput", `${name} is not an IP address: ${value}`);
    }
    if (mask !== null) {
      if (subnetIp === null) throw new Route53Error("InvalidInput", "edns0clientsubnetmask requires edns0clientsubnetip");
      const bits = isIP(subnetIp) === 6 ? 128 : 32;
      if (!/^\d+$/.test(mask) || Number(mask) > bits) throw new Route53Error("InvalidInput", `edns0clientsubnetmask must be 0-${bits}, got ${mask}`);
    }
    const name = normalizeName(recordName);
    if (name !== z.name && !name.endsWith(`.${z.name}`)) throw new Route53Error("InvalidInput", `${recordName} is not in the hosted zone ${fqdn(z.name)}`);
    // Latency routing looks at the client subnet when the resolver sends one, else at the resolver.
    const region =
      (subnetIp !== null ? options.regionOfAddress(subnetIp) : undefined) ??
      (resolverIp !== null ? options.regionOfAddress(resolverIp) : undefined) ??
      DEFAULT_RESOLVER_REGION;
    const answer = options.answerer.answer(name, recordType, region);
    // The zone's own answer: what its name server says for this name, not what a resolver chases.
    const data = answer.answers.filter((a) => a.name === name).map((a) => a.data);
    return (
      `<TestDNSAnswerResponse xmlns="${XMLNS}">${tag("Nameserver", ZONE_NAME_SERVER)}${tag("RecordName", recordName)}${tag("RecordType", recordType)}` +
      `<RecordData>${data.map((d) => tag("RecordDataEntry", d)).join("")}</RecordData>${tag("ResponseCode", answer.rcode)}${tag("Protocol", "UDP")}</TestDNSAnswerResponse>`
    );
  }

  /** The operation a request names, or Route 53's error for one it does not. */
  const route = (call: EdgeCall) => {
    const { method, rawPath } = call.request;
    if (!rawPath.startsWith(`${VERSION}/`)) throw new Route53Error("InvalidInput", `Route 53 paths start with ${VERSION}/, got ${rawPath}`, 404);
    const path = rawPath.slice(VERSION.length);
    for (const [pattern, name, resource, answer] of operations) {
      const match = pattern.exec(path);
      if (!match) continue;
      if (method !== "GET") throw new Route53Error("InvalidInput", `The local Route 53 implements only GET on ${rawPath}`, 405);
      return { name, resource: resource(match), answer: () => answer(new URLSearchParams(call.request.rawQuery), match) };
    }
    throw new Route53Error("InvalidAction", `The local Route 53 does not implement ${method} ${rawPath}`, 404);
  };

  return {
    protocol: { kind: "rest-xml", xmlns: XMLNS },
    global: true,
    requirements(call): Requirement[] {
      const { name, resource } = route(call);
      return [{ action: `route53:${name}`, resource }];
    },
    async handle(call): Promise<HttpResponse> {
      return { status: 200, headers: { "content-type": "text/xml", "x-amzn-requestid": randomUUID() }, body: `<?xml version="1.0"?>\n${route(call).answer()}` };
    },
  };
}

function recordSetXml(r: RecordSet): string {
  return (
    `<ResourceRecordSet>${tag("Name", fqdn(r.name))}${tag("Type", r.type)}${tag("SetIdentifier", r.setIdentifier)}${tag("Region", r.latencyRegion)}` +
    `${tag("TTL", r.ttl)}<ResourceRecords>${r.records.map((value) => `<ResourceRecord>${tag("Value", value)}</ResourceRecord>`).join("")}</ResourceRecords>` +
    `${tag("HealthCheckId", r.healthCheckId)}</ResourceRecordSet>`
  );
}

function maxItemsOf(query: URLSearchParams, limit: number): number {
  const text = query.get("maxitems");
  if (text === null) return limit;
  if (!/^\d+$/.test(text) || Number(text) < 1) throw new Route53Error("InvalidInput", `maxitems must be a positive number, got ${text}`);
  return Math.min(Number(text), limit);
}

function compareKeys(a: string[], b: string[]): number {
  for (let i = 0; i < a.length; i++) {
    const order = byCode(a[i], b[i]);
    if (order !== 0) return order;
  }
  return 0;
}
