// Benchmark of the local cloud's request path (targets: docs/design.md): latency p50/p99 and requests/s
// of a MOCK route (API Gateway overhead alone) and a Lambda proxy route against a bare loopback HTTP
// server (the same HTTP work, nothing else) measured in the same run; a DynamoDB GetItem through the
// edge (signature, IAM, dynalite) against the same GetItem straight to dynalite's socket; and what
// the edge's signature check and IAM evaluation cost per call, as a share of that GetItem (target
// at most 10 %). The stage's throttling is lifted for the run.
//
//   npm run bench:local-cloud [-- --requests 1000 --seconds 3 --concurrency 16]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { createServer } from "node:http";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import { LocalCloud } from "../../local/cloud";
import { authorize } from "../../local/iam/authorize";
import { closeServer, listenOnLoopback } from "../../local/lib/listen";
import { verifySigV4 } from "../../local/lib/sigv4";
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
    const getItem = new GetItemCommand({ TableName: "SAMLSessions", Key: { identityhash: { S: "bench" } } });
    const throughEdge = cloud.dynamodbClient("us-east-1");
    const toBackend = cloud.regions.get("us-east-1")!.dynamodb.client;
    const bare = createServer((_request, response) => response.end("{}"));
    const barePort = await listenOnLoopback(bare);
    const cases: Array<[string, Call]> = [
      ["baseline: bare loopback HTTP server", http(`http://127.0.0.1:${barePort}/`, {}, 200)],
      ["MOCK route (OPTIONS /users, CORS preflight)", http(`${api}/users`, { method: "OPTIONS" }, 200)],
      ["Lambda proxy route (GET /helloworld)", http(`${api}/helloworld`, {}, 200)],
      ["baseline: DynamoDB GetItem, dynalite socket", () => toBackend.send(getItem)],
      ["DynamoDB GetItem through the edge", () => throughEdge.send(getItem)],
    ];
    console.log(`local cloud bench: ${REQUESTS} sequential requests for latency, ${SECONDS} s at concurrency ${CONCURRENCY} for throughput`);
    const rows: string[] = [];
    for (const [name, call] of cases) {
      const { p50, p99 } = await latency(call, REQUESTS);
      const rps = await throughput(call, SECONDS, CONCURRENCY);
      rows.push(`${name.padEnd(46)} p50 ${p50.toFixed(2).padStart(6)} ms  p99 ${p99.toFixed(2).padStart(6)} ms  ${rps.toFixed(0).padStart(6)} req/s`);
      console.log(rows.at(-1));
    }
    await closeServer(bare);
    const edgeP50 = Number(/GetItem through the edge\s+p50\s+([\d.]+)/.exec(rows.join("\n"))![1]);
    const checkMs = await signatureAndIamMs(cloud);
    console.log(`signature check + IAM evaluation of that GetItem: ${(checkMs * 1000).toFixed(0)} us per call, ${((checkMs / edgeP50) * 100).toFixed(1)} % of its p50 through the edge (target at most 10 %)`);
    console.log("target: MOCK route p50 under 2 ms (API Gateway overhead)");
  } finally {
    await cloud.stop();
    rmSync(outdir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** What the edge adds to a call to decide it: SigV4 verification and the IAM evaluation, per call (ms). */
async function signatureAndIamMs(cloud: LocalCloud): Promise<number> {
  const account = cloud.accounts.get("111111111111");
  const body = JSON.stringify({ TableName: "SAMLSessions", Key: { identityhash: { S: "bench" } } });
  const signer = new SignatureV4({ service: "dynamodb", region: "us-east-1", credentials: { accessKeyId: account.admin.accessKeyId, secretAccessKey: account.admin.secretAccessKey }, sha256: Sha256 });
  const headers = { host: "127.0.0.1", "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.GetItem" };
  const signed = await signer.sign({ method: "POST", protocol: "http:", hostname: "127.0.0.1", path: "/", headers, body });
  const request = { method: "POST", path: "/", query: "", headers: Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), String(v)])), body: Buffer.from(body) };
  const permission = { action: "dynamodb:GetItem", resource: "arn:aws:dynamodb:us-east-1:111111111111:table/SAMLSessions" };
  const ROUNDS = 5000;
  const started = performance.now();
  for (let i = 0; i < ROUNDS; i++) {
    const verified = verifySigV4(request, cloud.accounts.lookup);
    if (!verified.ok) throw new Error(verified.message);
    if (!authorize(cloud.accounts, cloud.accounts.callerOf(verified.accessKeyId)!, permission, undefined, "us-east-1").allowed) throw new Error("not allowed");
  }
  return (performance.now() - started) / ROUNDS;
}

main().catch((error: Error) => {
  console.error(`bench failed: ${error.message}`);
  process.exit(1);
});
