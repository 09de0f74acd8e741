// npm run dns:check: how Route 53 routes the platform domain, read through Route 53's API (the
// same calls against AWS and against the local cloud): the hosted zone (ListHostedZonesByName),
// its latency records (ListResourceRecordSets), each record's health check (GetHealthCheckStatus),
// and the answer a resolver in each region gets (TestDNSAnswer with that region's resolver and
// EDNS client subnet), with the reason for it. Options: npm run dns:check -- --help.
import type {
  GetHealthCheckStatusCommandOutput,
  HostedZone,
  ResourceRecordSet,
  Route53Client,
  TestDNSAnswerCommandOutput,
} from "@aws-sdk/client-route-53";
import { clientOf, REGION_PREFIXES } from "../local/route53/client-regions";
import { defineCli, UsageError } from "./lib/cli";
import type { LocalEndpoints } from "../local/cloud";
import { readLocalEndpoints } from "./lib/local-endpoints";

/** Route 53 calls an endpoint healthy when more than 18% of its health checkers do. */
const HEALTHY_SHARE = 0.18;
const REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d$/;

const cli = defineCli({
  command: "npm run dns:check --",
  summary:
    "Checks how Route 53 routes the platform domain: finds its hosted zone, lists its latency records and their health checks' status, and asks " +
    "TestDNSAnswer what a resolver in each region gets (EDNS client subnet in that region), saying which region answers and why. " +
    "Against the running local cloud (npm start) by default, or AWS with --aws.",
  options: {
    aws: { type: "boolean", description: "ask AWS's Route 53 with the AWS SDK's default credentials (AWS_PROFILE, ...): those of the workspace's account" },
    "endpoint-url": { type: "string", value: "<url>", description: "ask the Route 53 API at this URL instead" },
    endpoints: { type: "string", value: "<file>", description: "the running local cloud's endpoints (default .local/endpoints.json)" },
    workspace: { type: "string", value: "<name>", description: "take the domain from this environment of config/environments.json" },
    domain: { type: "string", value: "<name>", description: "the platform domain to check (default: the local cloud's, or the workspace's domainName)" },
    region: {
      type: "string",
      value: "<region>",
      multiple: true,
      description: `ask from a resolver in this region (default: every region with a latency record); known: ${Object.keys(REGION_PREFIXES).join(", ")}`,
    },
  },
  notes: [
    "examples:",
    "  npm run dns:check                                  the local cloud",
    "  npm run dns:check -- --aws --workspace prod        AWS, with this shell's credentials",
    "exit code: 0 when every resolver is answered with a region whose health check passes, 1 otherwise (or when a call fails), 2 for a mistake on the command line",
  ],
});

interface LatencyRecord {
  region: string;
  setIdentifier: string;
  value: string;
  healthCheckId?: string;
}

interface CheckHealth {
  healthy: boolean;
  successes: number;
  observations: number;
  latest?: string;
}

interface Answer {
  from: string;
  resolverIp: string;
  subnet: string;
  answered?: LatencyRecord;
  data: string[];
  responseCode?: string;
  why: string;
  ok: boolean;
}

const bare = (name: string) => name.toLowerCase().replace(/\.$/, "");

/** The public hosted zone holding `domain`: the longest of its parent names that is a zone. */
async function findZone(route53: Route53Client, domain: string): Promise<HostedZone> {
  const { ListHostedZonesByNameCommand } = await import("@aws-sdk/client-route-53");
  const labels = domain.split(".");
  for (let i = 0; i < labels.length - 1; i++) {
    const candidate = labels.slice(i).join(".");
    const { HostedZones = [] } = await route53.send(new ListHostedZonesByNameCommand({ DNSName: candidate, MaxItems: 1 }));
    const zone = HostedZones[0];
    if (zone && bare(zone.Name ?? "") === candidate && !zone.Config?.PrivateZone) return zone;
  }
  throw new Error(`no public hosted zone holds ${domain}`);
}

async function recordSets(route53: Route53Client, zoneId: string): Promise<ResourceRecordSet[]> {
  const { ListResourceRecordSetsCommand } = await import("@aws-sdk/client-route-53");
  const all: ResourceRecordSet[] = [];
  let start: { StartRecordName?: string; StartRecordType?: ResourceRecordSet["Type"]; StartRecordIdentifier?: string } = {};
  for (;;) {
    const page = await route53.send(new ListResourceRecordSetsCommand({ HostedZoneId: zoneId, ...start }));
    all.push(...(page.ResourceRecordSets ?? []));
    if (!page.IsTruncated) return all;
    start = { StartRecordName: page.NextRecordName, StartRecordType: page.NextRecordType, StartRecordIdentifier: page.NextRecordIdentifier };
  }
}

function healthOf(status: GetHealthCheckStatusCommandOutput): CheckHealth {
  const observations = status.HealthCheckObservations ?? [];
  const successes = observations.filter((o) => o.StatusReport?.Status?.startsWith("Success")).length;
  const newest = [...observations].sort((a, b) => (b.StatusReport?.CheckedTime?.getTime() ?? 0) - (a.StatusReport?.CheckedTime?.getTime() ?? 0))[0];
  const failing = observations.find((o) => !o.StatusReport?.Status?.startsWith("Success"));
  // A new check without observations is healthy until there is data, as in Route 53.
  const healthy = observations.length === 0 || successes / observations.length > HEALTHY_SHARE;
  return { healthy, successes, observations: observations.length, latest: (healthy ? newest : failing)?.StatusReport?.Status };
}

function describeHealth(health: CheckHealth | undefined): string {
  if (!health) return "no health check";
  if (health.observations === 0) return "healthy, no observations yet";
  return `${health.healthy ? "healthy" : "FAILING"}, ${health.successes} of ${health.observations} checkers report success (${health.latest})`;
}

/** Why a resolver in `from` got `answer`, and whether that is what healthy routing gives. */
function explain(from: string, answered: LatencyRecord | undefined, records: LatencyRecord[], health: Map<string, CheckHealth>, answer: TestDNSAnswerCommandOutput): { why: string; ok: boolean } {
  const healthy = (r: LatencyRecord) => r.healthCheckId === undefined || health.get(r.healthCheckId)?.healthy !== false;
  if (!answered) {
    return { why: `${answer.ResponseCode ?? "no answer"} ${answer.RecordData?.join(", ") || ""}: none of the latency records`.trim(), ok: false };
  }
  if (records.every((r) => !healthy(r))) {
    return { why: "every health check fails, so Route 53 answers as if all were healthy: the platform is down in every region", ok: false };
  }
  if (!healthy(answered)) return { why: `its health check ${answered.healthCheckId} fails, yet Route 53 answered it`, ok: false };
  if (answered.region === from) return { why: "the resolver's own region; its health check passes", ok: true };
  const own = records.find((r) => r.region === from);
  if (!own) return { why: `${from} has no latency record; ${answered.region} is the lowest-latency region with a healthy record`, ok: true };
  if (!healthy(own)) {
    const check = health.get(own.healthCheckId!);
    return { why: `${from}'s record is left out: its health check ${own.healthCheckId} fails (${check?.latest}); ${answered.region} is the lowest-latency healthy region`, ok: true };
  }
  return { why: `${from}'s record passes its health check, yet Route 53 measured ${answered.region} nearer this resolver's network`, ok: true };
}

/** The key pair of the account whose stacks serve the first region (endpoints.json lists it). */
function localAdmin(local: LocalEndpoints) {
  const { accessKeyId, secretAccessKey } = local.credentials[Object.values(local.regions)[0].accountId];
  return { accessKeyId, secretAccessKey };
}

async function target(values: { aws: boolean; "endpoint-url"?: string; endpoints?: string; workspace?: string; domain?: string }) {
  const { Route53Client } = await import("@aws-sdk/client-route-53");
  if (values.aws && values["endpoint-url"]) throw new UsageError("--aws and --endpoint-url exclude each other");
  const local = !values.aws && !values["endpoint-url"] ? readLocalEndpoints(values.endpoints) : undefined;
  const endpoint = values["endpoint-url"] ?? local?.services.edge;
  let domain = values.domain ?? (values.workspace ? undefined : local?.platformDomain?.name);
  if (!domain) {
    if (!values.workspace) throw new UsageError(local ? "the local cloud serves no platform domain: give --domain" : "--domain or --workspace is required with --aws or --endpoint-url");
    const { loadConfig } = await import("../stacks/config");
    const environment = loadConfig().environments[values.workspace];
    if (!environment) throw new UsageError(`--workspace must be an environment of config/environments.json, got "${values.workspace}"`);
    domain = environment.domainName;
  }
  const route53 = new Route53Client({
    // Route 53 is global; its API signs for us-east-1.
    region: "us-east-1",
    ...(endpoint ? { endpoint } : {}),
    // In the local cloud, as the administrator of the account the platform domain's records are in.
    ...(local ? { credentials: localAdmin(local) } : {}),
  });
  const where = values.aws ? "AWS" : local ? `the local cloud (edge ${endpoint})` : endpoint!;
  return { route53, domain: bare(domain), where };
}

cli.main(async ({ values }) => {
  for (const region of values.region) {
    if (!REGION_NAME.test(region)) throw new UsageError(`--region must be an AWS region, e.g. us-east-1, got "${region}"`);
    if (!clientOf(region)) throw new UsageError(`--region ${region} has no resolver address known to dns:check (known: ${Object.keys(REGION_PREFIXES).join(", ")})`);
  }
  const { route53, domain, where } = await target(values);
  const { GetHealthCheckStatusCommand, TestDNSAnswerCommand } = await import("@aws-sdk/client-route-53");
  try {
    console.log(`dns:check ${domain} against ${where}`);
    const zone = await findZone(route53, domain);
    const sets = await recordSets(route53, zone.Id!);
    console.log(`hosted zone ${zone.Id!.replace("/hostedzone/", "")} ${zone.Name} (${sets.length} record sets)`);
    const named = sets.filter((r) => bare(r.Name ?? "") === domain);
    const records: LatencyRecord[] = named
      .filter((r) => r.Region)
      .map((r) => ({ region: r.Region!, setIdentifier: r.SetIdentifier ?? "", value: bare(r.ResourceRecords?.[0]?.Value ?? r.AliasTarget?.DNSName ?? ""), healthCheckId: r.HealthCheckId }));
    if (records.length === 0) {
      console.log(`no latency records for ${domain}. (${named.map((r) => r.Type).join(", ") || "no records at all"})`);
      return 1;
    }
    const recordType = named.find((r) => r.Region)!.Type!;
    const health = new Map<string, CheckHealth>();
    for (const id of new Set(records.flatMap((r) => (r.healthCheckId ? [r.healthCheckId] : [])))) {
      health.set(id, healthOf(await route53.send(new GetHealthCheckStatusCommand({ HealthCheckId: id }))));
    }
    console.log(`latency records of ${domain}. (${recordType}, TTL ${named.find((r) => r.Region)!.TTL}):`);
    const width = Math.max(...records.map((r) => r.value.length));
    for (const r of records) {
      const check = r.healthCheckId ? `health check ${r.healthCheckId}: ${describeHealth(health.get(r.healthCheckId))}` : "no health check";
      console.log(`  ${r.region.padEnd(10)} ${r.value.padEnd(width)}  ${check}`);
    }

    const regions = values.region.length > 0 ? values.region : [...new Set(records.map((r) => r.region))].filter((r) => clientOf(r));
    console.log("answers (TestDNSAnswer from a resolver in each region, with an EDNS client subnet there):");
    const answers: Answer[] = [];
    for (const from of regions) {
      const client = clientOf(from)!;
      const answer = await route53.send(
        new TestDNSAnswerCommand({
          HostedZoneId: zone.Id!,
          RecordName: domain,
          RecordType: recordType,
          ResolverIP: client.resolverIp,
          EDNS0ClientSubnetIP: client.subnet,
          EDNS0ClientSubnetMask: String(client.prefixLength),
        }),
      );
      const data = (answer.RecordData ?? []).map(bare);
      const answered = records.find((r) => data.includes(r.value));
      answers.push({ from, resolverIp: client.resolverIp, subnet: `${client.subnet}/${client.prefixLength}`, answered, data, responseCode: answer.ResponseCode, ...explain(from, answered, records, health, answer) });
    }
    for (const a of answers) {
      const got = a.answered ? `${a.answered.region} (${a.answered.value})` : `${a.responseCode ?? "?"} ${a.data.join(", ")}`;
      console.log(`  from ${a.from} (resolver ${a.resolverIp}, subnet ${a.subnet}): ${got}\n      ${a.ok ? "" : "PROBLEM: "}${a.why}`);
    }
    const failing = records.filter((r) => r.healthCheckId && health.get(r.healthCheckId)?.healthy === false);
    const verdict = answers.every((a) => a.ok) ? "every resolver is answered with a region whose health check passes" : "some resolvers are answered wrongly (PROBLEM above)";
    const failingText = failing.length > 0 ? `; failing health checks: ${failing.map((r) => `${r.healthCheckId} (${r.region})`).join(", ")}` : "";
    console.log(`dns:check: ${verdict}${failingText}`);
    return answers.every((a) => a.ok) ? 0 : 1;
  } finally {
    route53.destroy();
  }
});
