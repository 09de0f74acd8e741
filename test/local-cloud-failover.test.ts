// The multi-region post's failover drill on the local cloud, from the synthesized global-dns
// stack: the platform domain resolves through the local Route 53 DNS server to us-east-1; with
// STATUS=fail on us-east-1's health Lambda, its health check fails after interval x threshold
// (time-scaled) and the answers and messages move to us-west-2 with no failed request; they
// move back after recovery. The time scale makes Route 53's 30 s interval 1 s.
import { Resolver } from "node:dns/promises";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalCloud } from "../local/cloud";
import { synth } from "../scripts/lib/synth";
import { setHealthStatus } from "../scripts/drill";

const TIME_SCALE = 30;
let cloud: LocalCloud;
let resolver: Resolver;

beforeAll(async () => {
  const outdir = mkdtempSync(join(tmpdir(), "local-cloud-failover-synth-"));
  synth({ target: "aws", outdir });
  cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir: mkdtempSync(join(tmpdir(), "local-cloud-failover-")), port: 0, timeScale: TIME_SCALE });
  resolver = new Resolver();
  resolver.setServers([cloud.endpoints().dns!.address]);
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

const domain = () => cloud.endpoints().platformDomain!.name;

/** One client step: resolve the domain, call /v1/helloworld/ through it. */
async function step() {
  const [target] = await resolver.resolveCname(domain());
  const response = await fetch(`${cloud.endpoints().platformDomain!.httpUrl}/v1/helloworld/`);
  return { target, status: response.status, message: ((await response.json()) as { message: string }).message };
}

/** Steps every 100 ms until `done` holds; every step is kept, and the time it took. */
async function until(done: (s: Awaited<ReturnType<typeof step>>) => boolean, limitMs: number) {
  const started = Date.now();
  const steps: Awaited<ReturnType<typeof step>>[] = [];
  while (Date.now() - started < limitMs) {
    const s = await step();
    steps.push(s);
    if (done(s)) return { steps, ms: Date.now() - started };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no switch within ${limitMs} ms; last: ${JSON.stringify(steps.at(-1))}`);
}

describe("failover drill through the local Route 53", () => {
  it("answers the platform domain with us-east-1's regional API for a caller near us-east-1", async () => {
    expect(domain()).toBe("api.dev.example.com");
    const answer = await resolver.resolveCname(domain());
    expect(answer[0]).toMatch(/\.execute-api\.us-east-1\.amazonaws\.com$/);
    expect(await resolver.resolve4(answer[0])).toEqual(["127.0.0.1"]);
    expect(await step()).toMatchObject({ status: 200, message: "Hello from us-east-1" });
  });

  it("refuses names outside its zones and says NXDOMAIN for unknown names inside", async () => {
    await expect(resolver.resolveCname("example.org")).rejects.toMatchObject({ code: "EREFUSED" });
    await expect(resolver.resolveCname(`nothing.${domain().split(".").slice(1).join(".")}`)).rejects.toMatchObject({ code: "ENOTFOUND" });
  });

  it("moves to us-west-2 when us-east-1's health check fails, and back after recovery, without a failed request", async () => {
    const endpoints = cloud.endpoints();
    // Route 53 flips after failureThreshold (2) failed checks 30 s apart, and a client may hold the
    // old answer for the TTL (60 s); all on the scaled clock, plus slack for probes on a busy machine.
    const bound = ((30 * 2 + 60) / TIME_SCALE) * 1000 + 4000;

    await setHealthStatus(endpoints, "us-east-1", "fail");
    const away = await until((s) => s.message === "Hello from us-west-2", bound);
    expect(away.steps.every((s) => s.status === 200)).toBe(true);
    expect(away.steps.at(-1)!.target).toMatch(/\.execute-api\.us-west-2\.amazonaws\.com$/);
    const unhealthy = cloud.endpoints().dns!.healthChecks.filter((c) => !c.healthy);
    expect(unhealthy.map((c) => c.fqdn)).toEqual([expect.stringContaining(".execute-api.us-east-1.")]);

    await setHealthStatus(endpoints, "us-east-1", "ok");
    const back = await until((s) => s.message === "Hello from us-east-1", bound);
    expect(back.steps.every((s) => s.status === 200)).toBe(true);
  }, 30_000);

  it("answers with every region's record as if healthy when all health checks fail, as Route 53 does", async () => {
    const endpoints = cloud.endpoints();
    await setHealthStatus(endpoints, "us-east-1", "fail");
    await setHealthStatus(endpoints, "us-west-2", "fail");
    try {
      await expect.poll(() => cloud.endpoints().dns!.healthChecks.every((c) => !c.healthy), { timeout: 15_000, interval: 100 }).toBe(true);
      // Nearest region again, since none is healthy.
      expect((await step()).message).toBe("Hello from us-east-1");
    } finally {
      await setHealthStatus(endpoints, "us-east-1", "ok");
      await setHealthStatus(endpoints, "us-west-2", "ok");
    }
  }, 30_000);
});
