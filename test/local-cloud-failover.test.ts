// The multi-region post's failover drill on the local cloud, from the synthesized global-dns
// stack: the platform domain resolves through the local Route 53 DNS server to us-east-1; with
// STATUS=fail on us-east-1's health Lambda, its health check fails after interval x threshold
// and the answers and messages move to us-west-2 with no failed request; they move back after
// recovery. The local cloud runs on manual time: the test moves the clock 30 s (Route 53's
// interval) at a time, each move returning once the health checks due on the way have probed, so
// every step is exact. dns:check reads the same routing through Route 53's API before and during the drill.
import { execFile } from "node:child_process";
import { Resolver } from "node:dns/promises";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import * as packet from "dns-packet";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { startPlatformCloud } from "./helpers/local-cloud";
import { clientOf } from "../local/route53/client-regions";
import { REPO_ROOT } from "../scripts/lib/synth";
import { setHealthStatus } from "../scripts/drill";
import { udpQuery } from "./helpers/dns";

/** Route 53's request interval for the platform's health checks; their failure threshold is 2. */
const INTERVAL_MS = 30_000;
let cloud: LocalCloud;
let resolver: Resolver;

beforeAll(async () => {
  cloud = await startPlatformCloud("local-cloud-failover", { clock: "manual" });
  resolver = new Resolver();
  resolver.setServers([cloud.endpoints().dns!.address]);
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

const domain = () => cloud.endpoints().platformDomain!.name;

/** Runs a script of package.json against this local cloud, as `npm run <script> -- --endpoints <file> ...` does. */
async function runScript(file: string, args: string[]) {
  const endpoints = join(mkdtempSync(join(tmpdir(), "failover-endpoints-")), "endpoints.json");
  writeFileSync(endpoints, JSON.stringify(cloud.endpoints()));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", file, "--endpoints", endpoints, ...args], { cwd: REPO_ROOT });
    return { code: 0, stdout };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: `${e.stdout}${e.stderr}` };
  }
}

/** The CNAME the local DNS server answers for a client in `region` (EDNS Client Subnet, as `dig +subnet=`). */
async function cnameFor(region: string): Promise<string> {
  const client = clientOf(region)!;
  const query = packet.encode({
    type: "query",
    id: 7,
    flags: packet.RECURSION_DESIRED,
    questions: [{ name: domain(), type: "CNAME", class: "IN" }],
    additionals: [{ type: "OPT", name: ".", udpPayloadSize: 4096, options: [{ code: 8, family: 1, sourcePrefixLength: client.prefixLength, scopePrefixLength: 0, ip: client.subnet }] } as packet.OptAnswer],
  });
  const reply = await udpQuery(Number(cloud.endpoints().dns!.address.split(":")[1]), query);
  return String((reply.answers?.[0] as packet.StringAnswer | undefined)?.data);
}

/** One client step: resolve the domain, call /v1/helloworld/ through it. */
async function step() {
  const [target] = await resolver.resolveCname(domain());
  const response = await fetch(`${cloud.endpoints().platformDomain!.httpUrl}/v1/helloworld/`);
  return { target, status: response.status, message: ((await response.json()) as { message: string }).message };
}

/** A client step now, then one after each of `intervals` moves of the clock by Route 53's interval. */
async function stepsOver(intervals: number) {
  const steps = [await step()];
  for (let i = 0; i < intervals; i++) {
    await cloud.advance(INTERVAL_MS);
    steps.push(await step());
  }
  return steps;
}

describe("failover drill through the local Route 53", () => {
  it("answers the platform domain with us-east-1's regional API for a caller near us-east-1", async () => {
    expect(domain()).toBe("api.dev.example.com");
    const answer = await resolver.resolveCname(domain());
    expect(answer[0]).toMatch(/\.execute-api\.us-east-1\.amazonaws\.com$/);
    expect(await resolver.resolve4(answer[0])).toEqual(["127.0.0.1"]);
    expect(await step()).toMatchObject({ status: 200, message: "Hello from us-east-1" });
  });

  it("answers a client subnet in us-west-2 (EDNS Client Subnet) with us-west-2, as latency routing does", async () => {
    expect(await cnameFor("us-west-2")).toMatch(/\.execute-api\.us-west-2\.amazonaws\.com$/);
    expect(await cnameFor("us-east-1")).toMatch(/\.execute-api\.us-east-1\.amazonaws\.com$/);
  });

  it("dns:check through Route 53's API: each region's resolver gets its own region, every check healthy", async () => {
    const { code, stdout } = await runScript("scripts/dns-check.ts", []);
    expect(code, stdout).toBe(0);
    expect(stdout).toContain("hosted zone Z0DEV00000EXAMPLE dev.example.com. (");
    expect(stdout).toMatch(/^ {2}from us-east-1 \(resolver 34\.192\.0\.1, subnet 34\.192\.0\.0\/24\): us-east-1 \(d-\w+\.execute-api\.us-east-1\.amazonaws\.com\)$/m);
    expect(stdout).toMatch(/^ {2}from us-west-2 \(.*\): us-west-2 \(d-\w+\.execute-api\.us-west-2\.amazonaws\.com\)$/m);
    expect(stdout).not.toContain("FAILING");
    expect(stdout).toContain("dns:check: every resolver is answered with a region whose health check passes\n");
  }, 30_000);

  it("dns:check during the drill (npm run drill -- --region us-east-1 --status fail): us-east-1's resolver gets us-west-2, and why", async () => {
    const usEast = cloud.endpoints().dns!.healthChecks.find((c) => c.fqdn.includes(".us-east-1."))!.id;
    expect((await runScript("scripts/drill.ts", ["--region", "us-east-1", "--status", "fail"])).code).toBe(0);
    try {
      // The checker flips after failureThreshold (2) failures 30 s apart.
      await cloud.advance(2 * INTERVAL_MS);
      expect(await cnameFor("us-east-1")).toMatch(/\.us-west-2\./);
      const { code, stdout } = await runScript("scripts/dns-check.ts", []);
      expect(code, stdout).toBe(0);
      expect(stdout).toMatch(new RegExp(`^ {2}us-east-1 .* health check ${usEast}: FAILING, 0 of 1 checkers report success \\(Failure: HTTP Status Code 503`, "m"));
      expect(stdout).toMatch(/^ {2}from us-east-1 \(.*\): us-west-2 \(d-\w+\.execute-api\.us-west-2\.amazonaws\.com\)$/m);
      expect(stdout).toContain(`us-east-1's record is left out: its health check ${usEast} fails (Failure: HTTP Status Code 503`);
      expect(stdout).toContain(`failing health checks: ${usEast} (us-east-1)`);
    } finally {
      await setHealthStatus(cloud.endpoints(), "us-east-1", "ok");
    }
    await cloud.advance(2 * INTERVAL_MS);
    expect(await cnameFor("us-east-1")).toMatch(/\.us-east-1\./);
  }, 60_000);

  it("refuses names outside its zones and says NXDOMAIN for unknown names inside", async () => {
    await expect(resolver.resolveCname("example.org")).rejects.toMatchObject({ code: "EREFUSED" });
    await expect(resolver.resolveCname(`nothing.${domain().split(".").slice(1).join(".")}`)).rejects.toMatchObject({ code: "ENOTFOUND" });
  });

  it("moves to us-west-2 when us-east-1's health check fails, and back after recovery, without a failed request", async () => {
    const endpoints = cloud.endpoints();
    // Route 53 flips after failureThreshold (2) failed checks 30 s apart: the first failure changes
    // nothing, the second moves the answers. Every request in between is answered.
    await setHealthStatus(endpoints, "us-east-1", "fail");
    const away = await stepsOver(2);
    expect(away.map((s) => `${s.status} ${s.message}`)).toEqual(["200 Hello from us-east-1", "200 Hello from us-east-1", "200 Hello from us-west-2"]);
    expect(away.at(-1)!.target).toMatch(/\.execute-api\.us-west-2\.amazonaws\.com$/);
    const unhealthy = cloud.endpoints().dns!.healthChecks.filter((c) => !c.healthy);
    expect(unhealthy.map((c) => c.fqdn)).toEqual([expect.stringContaining(".execute-api.us-east-1.")]);

    await setHealthStatus(endpoints, "us-east-1", "ok");
    const back = await stepsOver(2);
    expect(back.map((s) => `${s.status} ${s.message}`)).toEqual(["200 Hello from us-west-2", "200 Hello from us-west-2", "200 Hello from us-east-1"]);
  }, 30_000);

  it("answers with every region's record as if healthy when all health checks fail, as Route 53 does", async () => {
    const endpoints = cloud.endpoints();
    await setHealthStatus(endpoints, "us-east-1", "fail");
    await setHealthStatus(endpoints, "us-west-2", "fail");
    try {
      await cloud.advance(2 * INTERVAL_MS);
      expect(cloud.endpoints().dns!.healthChecks.map((c) => c.healthy)).toEqual([false, false]);
      // Nearest region again, since none is healthy.
      expect((await step()).message).toBe("Hello from us-east-1");
    } finally {
      await setHealthStatus(endpoints, "us-east-1", "ok");
      await setHealthStatus(endpoints, "us-west-2", "ok");
    }
  }, 30_000);
});
