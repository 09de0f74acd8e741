// What Route 53's authoritative servers answer for one question, from Route53State: simple and
// latency-based record sets, health checks taking records out of the answers, CNAME chasing.
// Wire-free, so that the DNS server and the Route 53 API (TestDNSAnswer) give the same answer.
import { normalizeName, type RecordSet, type Route53State } from "./state";

export type ResponseCode = "NOERROR" | "NXDOMAIN" | "REFUSED";

export interface ResourceRecord {
  name: string;
  type: string;
  ttl: number;
  /** As Route 53 writes values: `1.2.3.4`, `host.example.com`, `"quoted txt"`, `10 mail.example.com`. */
  data: string;
}

export interface DnsAnswer {
  rcode: ResponseCode;
  answers: ResourceRecord[];
  /** The zone's SOA on negative answers (NXDOMAIN, or NOERROR without data), as authoritative servers give. */
  authority?: ResourceRecord;
}

/** Round-trip times between regions in ms; only their order matters. Looked up both ways. */
export type LatencyTable = Record<string, Record<string, number>>;

/**
 * Approximate public inter-region round trips (order of magnitude, from published inter-region
 * ping tables). Route 53 measures these itself; locally only the order they give matters.
 */
export const DEFAULT_LATENCY_MS: LatencyTable = {
  "us-east-1": { "us-east-2": 12, "us-west-1": 62, "us-west-2": 67, "eu-west-1": 68 },
  "us-east-2": { "us-west-1": 50, "us-west-2": 50, "eu-west-1": 85 },
  "us-west-1": { "us-west-2": 22, "eu-west-1": 135 },
  "us-west-2": { "eu-west-1": 125 },
};

export interface AnswerOptions {
  state: Route53State;
  /** Whether a health check currently passes (HealthCheckers.isHealthy). */
  isHealthy(healthCheckId: string): boolean;
  latencyMs?: LatencyTable;
  /**
   * Names outside every hosted zone that still resolve, to an address: the local cloud's stand-ins
   * for AWS hosts that latency records point at. Default: {@link loopbackExecuteApiHosts}.
   */
  localHost?(name: string): string | undefined;
}

const EXECUTE_API_HOST = /^[a-z0-9-]+\.execute-api\.[a-z]{2}(-[a-z]+)+-\d\.amazonaws\.com$/;
const LOCAL_HOST_TTL = 60;
/** The zones' name server, as the SOA names it: the local cloud's DNS server on this machine. */
export const ZONE_NAME_SERVER = "localhost";
/** Route 53's defaults for the SOA it creates with a zone (TTL 900, negative caching 86400 s). */
const SOA_TTL = 900;
const SOA_TIMERS = "1 7200 900 1209600 86400";
/** A CNAME chain longer than this is a loop (Route 53 itself does not chase; resolvers give up too). */
const MAX_CHAIN = 8;

/**
 * Regional API hosts (`<api id>.execute-api.<region>.amazonaws.com`, and the custom domains'
 * `d-xxxx.execute-api.<region>.amazonaws.com`) are served on loopback by the local cloud.
 */
export function loopbackExecuteApiHosts(name: string): string | undefined {
  return EXECUTE_API_HOST.test(name) ? "127.0.0.1" : undefined;
}

export function latencyBetween(table: LatencyTable, from: string, to: string): number {
  if (from === to) return 0;
  return table[from]?.[to] ?? table[to]?.[from] ?? Number.POSITIVE_INFINITY;
}

export class Answerer {
  private readonly latencyMs: LatencyTable;
  private readonly localHost: (name: string) => string | undefined;

  constructor(private readonly options: AnswerOptions) {
    this.latencyMs = options.latencyMs ?? DEFAULT_LATENCY_MS;
    this.localHost = options.localHost ?? loopbackExecuteApiHosts;
  }

  /**
   * The answer to `name`/`type` for a caller nearest to `callerRegion`. A CNAME is followed while
   * its target is a name this server knows, so a resolver asking for A gets the whole chain.
   */
  answer(name: string, type: string, callerRegion: string): DnsAnswer {
    const wanted = normalizeName(name);
    const first = this.answerOne(wanted, type, callerRegion);
    const answers = [...first.answers];
    let last = answers.at(-1);
    for (let hops = 0; last?.type === "CNAME" && type !== "CNAME" && hops < MAX_CHAIN; hops++) {
      const next = this.answerOne(normalizeName(last.data), type, callerRegion);
      if (next.rcode !== "NOERROR") break;
      answers.push(...next.answers);
      last = next.answers.at(-1);
    }
    return { ...first, answers };
  }

  private answerOne(name: string, type: string, callerRegion: string): DnsAnswer {
    const zone = this.zoneOf(name);
    if (!zone) {
      const address = this.localHost(name);
      if (address === undefined) return { rcode: "REFUSED", answers: [] };
      const answers = type === "A" ? [{ name, type: "A", ttl: LOCAL_HOST_TTL, data: address }] : [];
      return { rcode: "NOERROR", answers };
    }
    const named = this.options.state.records.filter((r) => r.zoneId === zone.id && r.name === name);
    const soa = zone.name ? zoneSoa(zone.name) : undefined;
    if (named.length === 0) {
      const hasDescendants = this.options.state.records.some((r) => r.zoneId === zone.id && r.name.endsWith(`.${name}`));
      const isApex = name === zone.name;
      return { rcode: hasDescendants || isApex ? "NOERROR" : "NXDOMAIN", answers: isApex && type === "SOA" && soa ? [soa] : [], authority: soa };
    }
    const cname = named.filter((r) => r.type === "CNAME");
    const group = cname.length > 0 ? cname : named.filter((r) => r.type === type);
    const chosen = this.choose(group, callerRegion);
    if (!chosen) return { rcode: "NOERROR", answers: [], authority: soa };
    return {
      rcode: "NOERROR",
      answers: chosen.records.map((data) => ({ name, type: chosen.type, ttl: chosen.ttl, data })),
    };
  }

  /**
   * Route 53's choice among the record sets of one name and type: records whose health check fails
   * leave the candidates, unless all do, in which case all count as healthy ("If no record is
   * healthy, all records are healthy", Route 53 Developer Guide, "How Amazon Route 53 chooses
   * records when health checking is configured"); then the latency record nearest the caller.
   */
  private choose(group: RecordSet[], callerRegion: string): RecordSet | undefined {
    const healthy = group.filter((r) => r.healthCheckId === undefined || this.options.isHealthy(r.healthCheckId));
    const candidates = healthy.length > 0 ? healthy : group;
    const distance = (r: RecordSet) =>
      r.latencyRegion === undefined ? 0 : latencyBetween(this.latencyMs, callerRegion, r.latencyRegion);
    return [...candidates].sort(
      (a, b) => distance(a) - distance(b) || (a.setIdentifier ?? "").localeCompare(b.setIdentifier ?? ""),
    )[0];
  }

  /**
   * The hosted zone holding `name`: the one with the longest domain it falls under, or for a zone
   * whose domain is not known, one holding a record of exactly that name.
   */
  private zoneOf(name: string): { id: string; name?: string } | undefined {
    let best: { id: string; name?: string } | undefined;
    for (const zone of this.options.state.zones.values()) {
      if (zone.name === undefined) continue;
      const under = name === zone.name || name.endsWith(`.${zone.name}`);
      if (under && (!best || zone.name.length > best.name!.length)) best = zone;
    }
    if (best) return best;
    const record = this.options.state.records.find((r) => r.name === name);
    return record ? this.options.state.zones.get(record.zoneId) : undefined;
  }
}

/** The SOA record a hosted zone has from its creation: served at the apex and listed with its record sets. */
export function zoneSoa(apex: string): ResourceRecord {
  return { name: apex, type: "SOA", ttl: SOA_TTL, data: `${ZONE_NAME_SERVER} hostmaster.${apex} ${SOA_TIMERS}` };
}
