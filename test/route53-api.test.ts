// The local Route 53 API (local/route53/api.ts) called with the AWS SDK's Route 53 client, as
// dns:check calls AWS: the shapes and errors of the Route 53 API Reference (ListHostedZonesByName,
// ListResourceRecordSets, GetHealthCheck, GetHealthCheckStatus, TestDNSAnswer; "Route 53 API
// error responses"), answered from the same state and health checkers that serve DNS. Two small
// HTTP servers play the regions' health endpoints; the checkers run on a manual clock the test moves.
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { promisify } from "node:util";
import {
  GetHealthCheckCommand,
  GetHealthCheckStatusCommand,
  ListHostedZonesByNameCommand,
  ListResourceRecordSetsCommand,
  Route53Client,
  TestDNSAnswerCommand,
} from "@aws-sdk/client-route-53";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeServer, listenOnLoopback } from "../local/lib/listen";
import { Answerer } from "../local/route53/answer";
import { route53Api } from "../local/route53/api";
import { startTestEdge, type TestEdge } from "./helpers/test-edge";
import { clientOf, regionOfAddress } from "../local/route53/client-regions";
import { ManualClock } from "../local/lib/clock";
import { HealthCheckers } from "../local/route53/health-checker";
import { Route53State } from "../local/route53/state";

const ZONE = "Z0DEV00000EXAMPLE";
const DOMAIN = "api.dev.example.com";
const REGIONS = ["us-east-1", "us-west-2"] as const;
type Region = (typeof REGIONS)[number];
const TARGET: Record<Region, string> = { "us-east-1": "d-east1111.execute-api.us-east-1.amazonaws.com", "us-west-2": "d-west2222.execute-api.us-west-2.amazonaws.com" };
const CHECK: Record<Region, string> = { "us-east-1": "11111111-aaaa-bbbb-cccc-000000000001", "us-west-2": "22222222-aaaa-bbbb-cccc-000000000002" };

const clock = new ManualClock();
const failing = new Set<Region>();
const health = Object.fromEntries(
  REGIONS.map((region) => [
    region,
    createServer((_request, response) => {
      response.writeHead(failing.has(region) ? 503 : 200, { "content-type": "application/json" });
      response.end(JSON.stringify({ status: failing.has(region) ? "fail" : "ok" }));
    }),
  ]),
) as Record<Region, Server>;
const ports = {} as Record<Region, number>;
const state = new Route53State();
let checkers: HealthCheckers;
let edge: TestEdge;
let credentials: { accessKeyId: string; secretAccessKey: string };
let route53: Route53Client;

beforeAll(async () => {
  for (const region of REGIONS) ports[region] = await listenOnLoopback(health[region]);
  state.ensureZone(ZONE, "dev.example.com");
  for (const region of REGIONS) {
    state.healthChecks.set(CHECK[region], {
      id: CHECK[region],
      accountId: "111111111111",
      type: "HTTPS_STR_MATCH",
      fqdn: `abc${region}.execute-api.${region}.amazonaws.com`,
      port: 443,
      resourcePath: "/prod/healthcheck",
      searchString: "ok",
      requestInterval: 30,
      failureThreshold: 2,
    });
    state.putRecord({ zoneId: ZONE, name: DOMAIN, type: "CNAME", ttl: 60, records: [TARGET[region]], setIdentifier: region, latencyRegion: region, healthCheckId: CHECK[region] });
  }
  state.putRecord({ zoneId: ZONE, name: `_acm1.${DOMAIN}`, type: "CNAME", ttl: 300, records: ["_validation.acm-validations.aws"] });
  checkers = new HealthCheckers({
    state,
    clock,
    resolveTarget: (fqdn, _port, path) => {
      const region = REGIONS.find((r) => fqdn.includes(`.${r}.`));
      return region && `http://127.0.0.1:${ports[region]}${path}`;
    },
  });
  checkers.start();
  const answerer = new Answerer({ state, isHealthy: (id) => checkers.isHealthy(id) });
  edge = await startTestEdge({
    accountId: "111111111111",
    services: () => ({ route53: route53Api({ state, answerer, healthStatus: (id) => checkers.statusOf(id), regionOfAddress }) }),
  });
  credentials = edge.admin;
  route53 = new Route53Client({ region: "us-east-1", endpoint: edge.url, credentials, maxAttempts: 1 });
  // Every check has been probed once before the tests read observations.
  while (!REGIONS.every((r) => checkers.statusOf(CHECK[r])!.observations.length > 0)) await new Promise((resolve) => setTimeout(resolve, 10));
});

afterAll(async () => {
  route53?.destroy();
  await edge?.stop();
  await checkers?.stop();
  for (const server of Object.values(health)) await closeServer(server);
});

const answerFrom = async (region: Region) => {
  const client = clientOf(region)!;
  return route53.send(
    new TestDNSAnswerCommand({
      HostedZoneId: ZONE,
      RecordName: DOMAIN,
      RecordType: "CNAME",
      ResolverIP: client.resolverIp,
      EDNS0ClientSubnetIP: client.subnet,
      EDNS0ClientSubnetMask: String(client.prefixLength),
    }),
  );
};

describe("client regions: AWS's published prefixes", () => {
  it("maps each region's stand-in resolver and subnet back to the region, and loopback to none", () => {
    for (const region of ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1"]) {
      const client = clientOf(region)!;
      expect([regionOfAddress(client.resolverIp), regionOfAddress(client.subnet)]).toEqual([region, region]);
    }
    expect(regionOfAddress("127.0.0.1")).toBeUndefined();
    expect(regionOfAddress("52.33.1.2")).toBe("us-west-2");
  });
});

describe("local Route 53 API through the AWS SDK", () => {
  it("ListHostedZonesByName finds the zone of a name, with its record set count (the SOA included)", async () => {
    const found = await route53.send(new ListHostedZonesByNameCommand({ DNSName: "dev.example.com", MaxItems: 1 }));
    expect(found.HostedZones).toEqual([
      { Id: `/hostedzone/${ZONE}`, Name: "dev.example.com.", CallerReference: `local-cloud-${ZONE}`, Config: { PrivateZone: false }, ResourceRecordSetCount: 4 },
    ]);
    expect(found.IsTruncated).toBe(false);
    // A name after every zone lists none.
    expect((await route53.send(new ListHostedZonesByNameCommand({ DNSName: "zzz.example.org" }))).HostedZones).toEqual([]);
  });

  it("ListResourceRecordSets lists the SOA, then the record sets by reversed name, type and set identifier, in pages", async () => {
    const all = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: ZONE }));
    expect(all.ResourceRecordSets!.map((r) => [r.Name, r.Type, r.SetIdentifier])).toEqual([
      ["dev.example.com.", "SOA", undefined],
      [`${DOMAIN}.`, "CNAME", "us-east-1"],
      [`${DOMAIN}.`, "CNAME", "us-west-2"],
      [`_acm1.${DOMAIN}.`, "CNAME", undefined],
    ]);
    expect(all.ResourceRecordSets![2]).toEqual({
      Name: `${DOMAIN}.`,
      Type: "CNAME",
      SetIdentifier: "us-west-2",
      Region: "us-west-2",
      TTL: 60,
      ResourceRecords: [{ Value: TARGET["us-west-2"] }],
      HealthCheckId: CHECK["us-west-2"],
    });
    const first = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: `/hostedzone/${ZONE}`, MaxItems: 2 }));
    expect(first).toMatchObject({ IsTruncated: true, NextRecordName: `${DOMAIN}.`, NextRecordType: "CNAME", NextRecordIdentifier: "us-west-2", MaxItems: 2 });
    const rest = await route53.send(
      new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, StartRecordName: first.NextRecordName, StartRecordType: "CNAME", StartRecordIdentifier: first.NextRecordIdentifier }),
    );
    expect(rest.ResourceRecordSets!.map((r) => r.SetIdentifier ?? r.Name)).toEqual(["us-west-2", `_acm1.${DOMAIN}.`]);
  });

  it("GetHealthCheck gives the check's configuration", async () => {
    const { HealthCheck } = await route53.send(new GetHealthCheckCommand({ HealthCheckId: CHECK["us-east-1"] }));
    expect(HealthCheck).toMatchObject({
      Id: CHECK["us-east-1"],
      HealthCheckConfig: { Type: "HTTPS_STR_MATCH", Port: 443, ResourcePath: "/prod/healthcheck", SearchString: "ok", RequestInterval: 30, FailureThreshold: 2 },
    });
  });

  it("GetHealthCheckStatus reports what the checker saw last", async () => {
    const { HealthCheckObservations } = await route53.send(new GetHealthCheckStatusCommand({ HealthCheckId: CHECK["us-west-2"] }));
    expect(HealthCheckObservations).toHaveLength(1);
    expect(HealthCheckObservations![0]).toMatchObject({ Region: "us-east-1", IPAddress: "127.0.0.1", StatusReport: { Status: "Success: HTTP Status Code 200, OK" } });
    expect(HealthCheckObservations![0].StatusReport!.CheckedTime).toBeInstanceOf(Date);
  });

  it("TestDNSAnswer answers each region's resolver with its own region's record, us-east-1 without a resolver", async () => {
    for (const region of REGIONS) {
      expect(await answerFrom(region)).toMatchObject({ RecordName: DOMAIN, RecordType: "CNAME", RecordData: [TARGET[region]], ResponseCode: "NOERROR", Protocol: "UDP" });
    }
    // The client subnet decides over the resolver's own address, as for latency routing with EDNS0.
    const west = clientOf("us-west-2")!;
    const subnetWins = await route53.send(
      new TestDNSAnswerCommand({ HostedZoneId: ZONE, RecordName: DOMAIN, RecordType: "CNAME", ResolverIP: clientOf("us-east-1")!.resolverIp, EDNS0ClientSubnetIP: west.subnet }),
    );
    expect(subnetWins.RecordData).toEqual([TARGET["us-west-2"]]);
    const noResolver = await route53.send(new TestDNSAnswerCommand({ HostedZoneId: ZONE, RecordName: DOMAIN, RecordType: "A" }));
    expect(noResolver.RecordData).toEqual([TARGET["us-east-1"]]);
    const missing = await route53.send(new TestDNSAnswerCommand({ HostedZoneId: ZONE, RecordName: `nothing.${DOMAIN}`, RecordType: "A" }));
    expect(missing).toMatchObject({ ResponseCode: "NXDOMAIN", RecordData: [] });
  });

  it("TestDNSAnswer leaves out a region whose health check fails, after the failure threshold, and takes it back", async () => {
    failing.add("us-east-1");
    try {
      // Two 30 s intervals: two failed probes, the threshold.
      await clock.advance(60_000);
      expect((await answerFrom("us-east-1")).RecordData).toEqual([TARGET["us-west-2"]]);
      const status = await route53.send(new GetHealthCheckStatusCommand({ HealthCheckId: CHECK["us-east-1"] }));
      expect(status.HealthCheckObservations![0].StatusReport!.Status).toMatch(/^Failure: HTTP Status Code 503/);
    } finally {
      failing.delete("us-east-1");
    }
    await clock.advance(60_000);
    expect((await answerFrom("us-east-1")).RecordData).toEqual([TARGET["us-east-1"]]);
  });

  it.each([
    ["an unknown hosted zone", () => new ListResourceRecordSetsCommand({ HostedZoneId: "Z0NOSUCHZONE" }), "NoSuchHostedZone", 404],
    ["an unknown health check", () => new GetHealthCheckStatusCommand({ HealthCheckId: "no-such-check" }), "NoSuchHealthCheck", 404],
    ["a record type Route 53 does not have", () => new TestDNSAnswerCommand({ HostedZoneId: ZONE, RecordName: DOMAIN, RecordType: "BOGUS" as "A" }), "InvalidInput", 400],
    ["a resolver that is not an IP address", () => new TestDNSAnswerCommand({ HostedZoneId: ZONE, RecordName: DOMAIN, RecordType: "A", ResolverIP: "resolver.example" }), "InvalidInput", 400],
    ["a name outside the zone", () => new TestDNSAnswerCommand({ HostedZoneId: ZONE, RecordName: "api.example.org", RecordType: "A" }), "InvalidInput", 400],
    ["a type without a name", () => new ListResourceRecordSetsCommand({ HostedZoneId: ZONE, StartRecordType: "A" }), "InvalidInput", 400],
  ])("refuses %s with Route 53's error", async (_case, command, name, status) => {
    await expect(route53.send(command() as never)).rejects.toMatchObject({ name, $metadata: { httpStatusCode: status } });
  });

  it.skipIf(!existsSync("/usr/bin/aws"))("answers the AWS CLI v2 too (aws route53 test-dns-answer --endpoint-url)", async () => {
    const west = clientOf("us-west-2")!;
    const { stdout } = await promisify(execFile)(
      "/usr/bin/aws",
      ["route53", "test-dns-answer", "--endpoint-url", edge.url, "--hosted-zone-id", ZONE, "--record-name", DOMAIN, "--record-type", "CNAME", "--edns0-client-subnet-ip", west.subnet, "--output", "json"],
      { env: { PATH: process.env.PATH, HOME: process.env.HOME, AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey, AWS_DEFAULT_REGION: "us-east-1", AWS_EC2_METADATA_DISABLED: "true" } },
    );
    expect(JSON.parse(stdout)).toMatchObject({ RecordName: DOMAIN, RecordData: [TARGET["us-west-2"]], ResponseCode: "NOERROR" });
  }, 30_000);
});
