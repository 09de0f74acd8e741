// Benchmark of the local cloud's request path (targets: docs/design.md): latency p50/p99 and requests/s
// of a MOCK route (API Gateway overhead alone) and a Lambda proxy route, against a direct call to
// dynalite measured in the same run as the baseline. The stage's throttling is lifted for the run.
//
//   npm run bench:local-cloud [-- --requests 1000 --seconds 3 --concurrency 16]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { LocalCloud } from "../../local/cloud";
import { loadConfig } from "../../stacks/config";
import { http, latency, throughput, type Call } from "../lib/load";
import { synth } from "../lib/synth";

const { values } = parseArgs({
  options: { requests: { type: "string", default: "1000" }, seconds: { type: "string", default: "3" }, concurrency: { type: "string", default: "16" } },
});
const REQUESTS = Number(values.requests);
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);

async function main() {
  const outdir = mkdtempSync(join(tmpdir(), "bench-local-cloud-synth-"));
  const dataDir = mkdtempSync(join(tmpdir(), "bench-local-cloud-"));
  // dev's stage limit (100 requests/s) would measure the throttle, not the emulator: lifted here.
  const config = loadConfig();
  config.environments.dev.api = { throttleRateLimit: 1_000_000, throttleBurstLimit: 1_000_000 };
  synth({ target: "aws", outdir, config });
  const cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir, port: 0 });
  try {
    const api = cloud.endpoints().regions["us-east-1"].apiUrl;
    const dynamodb = cloud.dynamodbClient("us-east-1");
    const cases: Array<[string, Call]> = [
      ["baseline: dynalite GetItem, direct", () => dynamodb.send(new GetItemCommand({ TableName: "SAMLSessions", Key: { identityhash: { S: "bench" } } }))],
      ["MOCK route (OPTIONS /users, CORS preflight)", http(`${api}/users`, { method: "OPTIONS" }, 200)],
      ["Lambda proxy route (GET /helloworld)", http(`${api}/helloworld`, {}, 200)],
    ];
    console.log(`local cloud bench: ${REQUESTS} sequential requests for latency, ${SECONDS} s at concurrency ${CONCURRENCY} for throughput`);
    const rows: string[] = [];
    for (const [name, call] of cases) {
      const { p50, p99 } = await latency(call, REQUESTS);
      const rps = await throughput(call, SECONDS, CONCURRENCY);
      rows.push(`${name.padEnd(46)} p50 ${p50.toFixed(2).padStart(6)} ms  p99 ${p99.toFixed(2).padStart(6)} ms  ${rps.toFixed(0).padStart(6)} req/s`);
      console.log(rows.at(-1));
    }
    console.log("target: MOCK route p50 under 2 ms (API Gateway overhead)");
  } finally {
    await cloud.stop();
    rmSync(outdir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.message}`);
  process.exit(1);
});
