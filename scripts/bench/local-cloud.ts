// Benchmark of the local cloud's request path (targets: docs/design.md): latency p50/p99 and
// requests/s of a MOCK route (API Gateway overhead alone) and a Lambda proxy route against a bare
// loopback HTTP server (the same HTTP work, nothing else) measured in the same run; a DynamoDB
// GetItem through the edge (signature, IAM, dynalite) against the same GetItem straight to
// dynalite's socket; and what the edge's signature check and IAM evaluation cost per call, as a
// share of that GetItem (target at most 10 %). The stage's throttling is lifted for the run.
//
//   options: npm run bench:local-cloud -- --help
import { createServer } from "node:http";
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { Sha256 } from "@aws-crypto/sha256-js";
import { SignatureV4 } from "@smithy/signature-v4";
import type { LocalCloud } from "../../local/cloud";
import { authorize } from "../../local/iam/authorize";
import { closeServer, listenOnLoopback } from "../../local/lib/listen";
import { verifySigV4 } from "../../local/lib/sigv4";
import { withUnthrottledCloud } from "../lib/bench-cloud";
import { defineCli } from "../lib/cli";
import { http, loadOptions, loadSettings, measureCases, type Call } from "../lib/load";

const EDGE_GET_ITEM = "DynamoDB GetItem through the edge";

const cli = defineCli({
  command: "npm run bench:local-cloud --",
  summary:
    "The local cloud's request path: p50/p99 and requests/s of a MOCK route (API Gateway's own overhead) and a Lambda proxy route against a bare " +
    "loopback HTTP server, and a DynamoDB GetItem through the edge against dynalite's socket, in the same run; then the edge's signature check and " +
    "IAM evaluation per call. The stage's throttling is lifted for the run. Targets: MOCK route p50 under 2 ms; signature + IAM at most 10 % of the GetItem.",
  options: loadOptions(1000),
});

cli.main(async ({ values }) => {
  const settings = loadSettings(values);
  await withUnthrottledCloud("bench-local-cloud", async (cloud) => {
    const api = cloud.endpoints().regions["us-east-1"].apiUrl;
    const getItem = new GetItemCommand({ TableName: "SAMLSessions", Key: { identityhash: { S: "bench" } } });
    const throughEdge = cloud.dynamodbClient("us-east-1");
    const toBackend = cloud.regions.get("us-east-1")!.dynamodb.client;
    const bare = createServer((_request, response) => response.end("{}"));
    const barePort = await listenOnLoopback(bare);
    try {
      const cases: Array<[string, Call]> = [
        ["baseline: bare loopback HTTP server", http(`http://127.0.0.1:${barePort}/`, {}, 200)],
        ["MOCK route (OPTIONS /users, CORS preflight)", http(`${api}/users`, { method: "OPTIONS" }, 200)],
        ["Lambda proxy route (GET /helloworld)", http(`${api}/helloworld`, {}, 200)],
        ["baseline: DynamoDB GetItem, dynalite socket", () => toBackend.send(getItem)],
        [EDGE_GET_ITEM, () => throughEdge.send(getItem)],
      ];
      console.log("local cloud bench");
      const results = await measureCases(cases, settings);
      const checkMs = await signatureAndIamMs(cloud);
      console.log(
        `signature check + IAM evaluation of that GetItem: ${(checkMs * 1000).toFixed(0)} us per call, ` +
          `${((checkMs / results[EDGE_GET_ITEM].p50) * 100).toFixed(1)} % of its p50 through the edge (target at most 10 %)`,
      );
      console.log("target: MOCK route p50 under 2 ms (API Gateway overhead)");
    } finally {
      await closeServer(bare);
    }
  });
  return 0;
});

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
