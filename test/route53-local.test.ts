// The local cloud's Route 53 data plane on its own: health checkers polling two small HTTP
// servers that play the regions' health endpoints, and the DNS server answering the latency
// records from the state the Terraform handlers fill. The checkers run on a manual clock: each
// 30 s the test moves it is one probe per check, awaited, so every step is exact.
import { createHash } from "node:crypto";
import { Resolver } from "node:dns/promises";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import * as packet from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RegionServices } from "../local/cloud/services";
import { ManualClock } from "../local/lib/clock";
import { closeServer, listenOnLoopback } from "../local/lib/listen";
import { DnsServer, type DnsCaller } from "../local/route53/dns-server";
import { HealthCheckers, SEARCH_WINDOW_BYTES, type HealthCheckStatus } from "../local/route53/health-checker";
import { route53Resources } from "../local/route53/resources";
import { Route53State } from "../local/route53/state";
import { udpQuery } from "./helpers/dns";

const INTERVAL_MS = 30_000;
const ZONE = "Z0TEST0000EXAMPLE";
const DOMAIN = "api.example.com";
const API_HOST = { "us-east-1": "abc111.execute-api.us-east-1.amazonaws.com", "us-west-2": "def222.execute-api.us-west-2.amazonaws.com" };
const TARGET = { "us-east-1": "d-east11111.execute-api.us-east-1.amazonaws.com", "us-west-2": "d-west22222.execute-api.us-west-2.amazonaws.com" };
type Region = keyof typeof API_HOST;

/** A region's health endpoint whose answer the test changes. */
class HealthEndpoint {
  body = JSON.stringify({ status: "ok" });
  statusCode = 200;
  hang = false;
  hosts: string[] = [];
  readonly server: Server = createServer((request, response) => {
    this.hosts.push(request.headers.host ?? "");
    if (this.hang) return;
    response.writeHead(this.statusCode, { "content-type": "application/json" });
    response.end(this.body);
  });
  port = 0;
  fail() {
    this.statusCode = 500;
    this.body = JSON.stringify({ status: "fail", checks: { table: "unreachable" } });
  }
  recover() {
    this.statusCode = 200;
    this.body = JSON.stringify({ status: "ok" });
  }
}

/** Fills the state as the deployer does, from the Terraform arguments global-dns synthesizes. */
async function deploy(state: Route53State, type: string, name: string, config: Record<string, unknown>) {
  return route53Resources[type]({
    type,
    name,
    address: `${type}.${name}`,
    config,
    stack: { name: "global-dns", dir: "." },
    workspace: "dev",
    region: "us-east-1",
    accountId: "111111111111",
    services: { route53: state } as unknown as RegionServices,
    stableId: (length = 8, alphabet = "0123456789abcdef", salt = "") => {
      const digest = createHash("sha256").update(`${name}${salt}`).digest();
      return Array.from({ length }, (_, i) => alphabet[digest[i] % alphabet.length]).join("");
    },
    log: () => {},
  });
}

async function until<T>(what: string, probe: () => Promise<T> | T, accept: (value: T) => boolean, timeoutMs = 2000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function query(name: string, type: packet.RecordType, extra: Partial<packet.Packet> = {}): Buffer {
  return packet.encode({ type: "query", id: 4242, flags: packet.RECURSION_DESIRED, questions: [{ name, type, class: "IN" }], ...extra });
}

const endpoints = { "us-east-1": new HealthEndpoint(), "us-west-2": new HealthEndpoint() } satisfies Record<Region, HealthEndpoint>;
const state = new Route53State();
const clock = new ManualClock();
const healthCheckIds = {} as Record<Region, string>;
const changes: { id: string; healthy: boolean; history: HealthCheckStatus["observations"] }[] = [];
let checkers: HealthCheckers;
let dns: DnsServer;
let resolver: Resolver;

beforeAll(async () => {
  for (const endpoint of Object.values(endpoints)) endpoint.port = await listenOnLoopback(endpoint.server);
  state.ensureZone(ZONE, "example.com");
  for (const region of Object.keys(API_HOST) as Region[]) {
    const check = await deploy(state, "aws_route53_health_check", `health-check-${region}`, {
      fqdn: API_HOST[region],
      type: "HTTPS_STR_MATCH",
      port: 443,
      resource_path: "/prod/healthcheck",
      search_string: "ok",
      request_interval: 30,
      failure_threshold: 2,
    });
    healthCheckIds[region] = check.id as string;
    await deploy(state, "aws_route53_record", `latency-record-${region}`, {
      zone_id: ZONE,
      name: DOMAIN,
      type: "CNAME",
      ttl: 60,
      records: [TARGET[region]],
      set_identifier: region,
      latency_routing_policy: { region },
      health_check_id: check.id,
    });
  }
  await deploy(state, "aws_route53_record", "txt", { zone_id: ZONE, name: "txt.example.com", type: "TXT", ttl: 300, records: ['"v=spf1 -all"'] });

  checkers = new HealthCheckers({
    state,
    clock,
    // On this machine every regional API host is served over plain HTTP on loopback.
    resolveTarget: (fqdn, _port, path) => {
      const region = (Object.keys(API_HOST) as Region[]).find((r) => API_HOST[r] === fqdn);
      return region && `http://127.0.0.1:${endpoints[region].port}${path}`;
    },
    onChange: ({ id, healthy }) => changes.push({ id, healthy, history: checkers.statusOf(id)!.observations }),
  });
  checkers.start();
  // The first probes go out at start.
  await until("the first probes", () => Object.values(healthCheckIds).map((id) => checkers.statusOf(id)!.observations.length), (n) => n.every((x) => x === 1));
  dns = new DnsServer({
    state,
    isHealthy: (id) => checkers.isHealthy(id),
    // A caller sending EDNS Client Subnet 10.2.0.0/16 sits in us-west-2; everyone else near us-east-1.
    callerRegion: (caller: DnsCaller) => (caller.clientSubnet?.address.startsWith("10.2.") ? "us-west-2" : "us-east-1"),
  });
  await dns.listen(0);
  resolver = new Resolver({ timeout: 1000, tries: 1 });
  resolver.setServers([dns.address]);
});

afterAll(async () => {
  await checkers?.stop();
  await dns?.close();
  for (const endpoint of Object.values(endpoints)) await closeServer(endpoint.server);
});

const answer = async () => (await resolver.resolveCname(DOMAIN))[0];

describe("latency records and health checks", () => {
  it("answers a loopback caller with the us-east-1 record, and follows the CNAME to loopback for A", async () => {
    expect(await answer()).toBe(TARGET["us-east-1"]);
    expect(await resolver.resolve4(DOMAIN)).toEqual(["127.0.0.1"]);
    const ttl = await resolver.resolve4(DOMAIN, { ttl: true });
    expect(ttl[0].ttl).toBeLessThanOrEqual(60);
  });

  it("polls with the Host header Route 53 sends (the FQDN, port 443 being HTTPS's)", async () => {
    await until("a probe", () => endpoints["us-east-1"].hosts.length, (n) => n > 0);
    expect(new Set(endpoints["us-east-1"].hosts)).toEqual(new Set([API_HOST["us-east-1"]]));
    const status = checkers.statusOf(healthCheckIds["us-east-1"])!;
    expect(status).toMatchObject({ healthy: true, polled: true, type: "HTTPS_STR_MATCH" });
    expect(status.observations[0]).toMatchObject({ ok: true, status: "Success: HTTP Status Code 200, OK" });
  });

  it("moves to us-west-2 after failureThreshold failures, and back after as many successes", async () => {
    const east = healthCheckIds["us-east-1"];
    endpoints["us-east-1"].fail();
    // One failure is below the threshold (2): still us-east-1.
    await clock.advance(INTERVAL_MS);
    expect(checkers.statusOf(east)).toMatchObject({ healthy: true, disagreeing: 1 });
    expect(await answer()).toBe(TARGET["us-east-1"]);
    await clock.advance(INTERVAL_MS);
    expect(await answer()).toBe(TARGET["us-west-2"]);
    const down = changes.find((c) => c.id === east && !c.healthy)!;
    // Exactly threshold (2) consecutive failures flipped it; the result before them was a success.
    expect(down.history.slice(0, 3).map((o) => o.ok)).toEqual([false, false, true]);
    expect(down.history[0].status).toBe("Failure: HTTP Status Code 500, Internal Server Error");
    expect(checkers.isHealthy(east)).toBe(false);

    endpoints["us-east-1"].recover();
    await clock.advance(INTERVAL_MS);
    expect(await answer()).toBe(TARGET["us-west-2"]);
    await clock.advance(INTERVAL_MS);
    expect(await answer()).toBe(TARGET["us-east-1"]);
    const up = changes.find((c) => c.id === east && c.healthy)!;
    expect(up.history.slice(0, 3).map((o) => o.ok)).toEqual([true, true, false]);
  });

  it("answers as if all were healthy when every record's health check fails", async () => {
    endpoints["us-east-1"].fail();
    endpoints["us-west-2"].fail();
    await clock.advance(2 * INTERVAL_MS);
    expect(Object.values(healthCheckIds).map((id) => checkers.isHealthy(id))).toEqual([false, false]);
    expect(await answer()).toBe(TARGET["us-east-1"]);
    endpoints["us-east-1"].recover();
    endpoints["us-west-2"].recover();
    await clock.advance(2 * INTERVAL_MS);
    expect(Object.values(healthCheckIds).map((id) => checkers.isHealthy(id))).toEqual([true, true]);
  });

  it("answers a caller whose EDNS Client Subnet lies in us-west-2 with the us-west-2 record", async () => {
    const subnet = { code: 8 as const, family: 1, sourcePrefixLength: 16, ip: "10.2.0.0" };
    const opt = { type: "OPT" as const, name: ".", udpPayloadSize: 1232, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [subnet] };
    const reply = await udpQuery(dns.port!, query(DOMAIN, "CNAME", { additionals: [opt] }));
    expect(reply.answers).toMatchObject([{ type: "CNAME", name: DOMAIN, data: TARGET["us-west-2"], ttl: 60 }]);
    expect(reply.flag_aa).toBe(true);
    const echoed = (reply.additionals?.find((a) => a.type === "OPT") as packet.OptAnswer).options[0];
    expect(echoed).toMatchObject({ code: 8, ip: "10.2.0.0", sourcePrefixLength: 16, scopePrefixLength: 16 });
  });
});

describe("health check probes", () => {
  /** One check on its own HealthCheckers against a server answering `body`; its first observation. */
  async function firstObservation(body: string | undefined, options: { resolves?: boolean } = {}) {
    const endpoint = new HealthEndpoint();
    if (body === undefined) endpoint.hang = true;
    else endpoint.body = body;
    endpoint.port = await listenOnLoopback(endpoint.server);
    const own = new Route53State();
    own.healthChecks.set("hc", { id: "hc", accountId: "111111111111", type: "HTTP_STR_MATCH", fqdn: "probe.test", port: 8080, resourcePath: "/health", searchString: "ok", requestInterval: 30, failureThreshold: 3 });
    const single = new HealthCheckers({
      state: own,
      clock: new ManualClock(),
      resolveTarget: (_fqdn, _port, path) => (options.resolves === false ? undefined : `http://127.0.0.1:${endpoint.port}${path}`),
    });
    single.start();
    try {
      const status = await until("an observation", () => single.statusOf("hc")!, (s) => s.observations.length > 0, 10_000);
      return { observation: status.observations[0], status, hosts: endpoint.hosts };
    } finally {
      await single.stop();
      await closeServer(endpoint.server);
    }
  }

  it("finds the search string only within the first 5,120 bytes of the body", async () => {
    const inside = await firstObservation(`${"x".repeat(SEARCH_WINDOW_BYTES - 2)}ok`);
    expect(inside.observation.ok).toBe(true);
    const straddling = await firstObservation(`${"x".repeat(SEARCH_WINDOW_BYTES - 1)}ok`);
    expect(straddling.observation).toMatchObject({ ok: false });
    expect(straddling.observation.status).toContain(`not in the first ${SEARCH_WINDOW_BYTES} bytes`);
    // One failure is below the threshold (3): the check is still healthy.
    expect(straddling.status).toMatchObject({ healthy: true, disagreeing: 1 });
    // HTTP on a port other than 80: Route 53 sends fqdn:port as Host.
    expect(straddling.hosts[0]).toBe("probe.test:8080");
  });

  it("fails an endpoint that sends no HTTP status within 2 s of connecting, and a name that does not resolve", async () => {
    const hanging = await firstObservation(undefined);
    expect(hanging.observation).toMatchObject({ ok: false, status: "Failure: no HTTP status within 2000 ms of connecting" });
    const unresolved = await firstObservation("ok", { resolves: false });
    expect(unresolved.observation.status).toMatch(/^Failure: DNS resolution failed: probe.test/);
    expect(unresolved.hosts).toEqual([]);
  });
});

describe("DNS protocol", () => {
  it("answers over TCP, several queries on one connection", async () => {
    const socket = connect(dns.port!, "127.0.0.1");
    const replies: packet.DecodedPacket[] = [];
    let pending = Buffer.alloc(0);
    await new Promise<void>((resolve, reject) => {
      socket.on("error", reject);
      socket.on("data", (chunk) => {
        pending = Buffer.concat([pending, chunk]);
        while (pending.length >= 2 && pending.length >= 2 + pending.readUInt16BE(0)) {
          replies.push(packet.decode(pending.subarray(2, 2 + pending.readUInt16BE(0))));
          pending = pending.subarray(2 + pending.readUInt16BE(0));
        }
        if (replies.length === 2) resolve();
      });
      socket.write(Buffer.concat([packet.streamEncode(packet.decode(query(DOMAIN, "A"))), packet.streamEncode(packet.decode(query("txt.example.com", "TXT")))]));
    });
    socket.destroy();
    expect(replies[0].answers).toMatchObject([
      { type: "CNAME", data: TARGET["us-east-1"] },
      { type: "A", name: TARGET["us-east-1"], data: "127.0.0.1" },
    ]);
    expect(replies[1].answers).toMatchObject([{ type: "TXT", ttl: 300 }]);
    expect(((replies[1].answers![0] as packet.TxtAnswer).data as Buffer[]).map(String)).toEqual(["v=spf1 -all"]);
  });

  it("answers TXT records through Node's resolver", async () => {
    expect(await resolver.resolveTxt("txt.example.com")).toEqual([["v=spf1 -all"]]);
  });

  it("gives NXDOMAIN with the zone's SOA for an unknown name in a zone, REFUSED outside every zone", async () => {
    await expect(resolver.resolveCname("nope.example.com")).rejects.toMatchObject({ code: "ENOTFOUND" });
    const nx = await udpQuery(dns.port!, query("nope.example.com", "A"));
    expect(nx.rcode).toBe("NXDOMAIN");
    expect(nx.authorities).toMatchObject([{ type: "SOA", name: "example.com" }]);
    // A name with no record of the asked type exists: NOERROR, no answers.
    const nodata = await udpQuery(dns.port!, query("txt.example.com", "A"));
    expect(nodata).toMatchObject({ rcode: "NOERROR", answers: [] });

    await expect(resolver.resolveCname("www.example.org")).rejects.toMatchObject({ code: "EREFUSED" });
    expect((await udpQuery(dns.port!, query("www.example.org", "A"))).rcode).toBe("REFUSED");
  });

  it("answers a malformed message with FORMERR and keeps serving", async () => {
    const garbage = Buffer.concat([query(DOMAIN, "A").subarray(0, 12), Buffer.from([0xff, 0xff, 0xff])]);
    const reply = await udpQuery(dns.port!, garbage);
    expect(reply).toMatchObject({ id: 4242, rcode: "FORMERR" });
    expect(await answer()).toBe(TARGET["us-east-1"]);
  });
});

describe("stopping", () => {
  const handles = () => {
    const counts: Record<string, number> = {};
    for (const kind of process.getActiveResourcesInfo()) counts[kind] = (counts[kind] ?? 0) + 1;
    return counts;
  };

  it("leaves no timers, sockets or servers behind, even with a probe in flight", async () => {
    const endpoint = new HealthEndpoint();
    endpoint.hang = true;
    endpoint.port = await listenOnLoopback(endpoint.server);
    // The shared checkers' timers come and go every few ms: stop them for a quiet baseline.
    await checkers.stop();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const before = handles();

    const own = new Route53State();
    own.healthChecks.set("hc", { id: "hc", accountId: "111111111111", type: "HTTP", fqdn: "slow.test", port: 80, resourcePath: "/", requestInterval: 30, failureThreshold: 1 });
    // The endpoint never answers: the probe is certainly in flight when stop() comes.
    const slow = new HealthCheckers({ state: own, clock: new ManualClock(), resolveTarget: () => `http://127.0.0.1:${endpoint.port}/` });
    slow.start();
    const server = new DnsServer({ state, isHealthy: () => true });
    await server.listen(0);
    await until("the probe to arrive", () => endpoint.hosts.length, (n) => n === 1);
    const during = handles();
    expect(during.Timeout ?? 0).toBeGreaterThan(before.Timeout ?? 0);

    await slow.stop();
    await server.close();
    expect(slow.statusOf("hc")).toMatchObject({ healthy: true, observations: [] });
    await closeServer(endpoint.server);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const after = handles();
    for (const kind of ["Timeout", "TCPSocketWrap", "TCPServerWrap", "UDPWrap"]) expect(after[kind] ?? 0, kind).toBeLessThanOrEqual(before[kind] ?? 0);
  });
});
