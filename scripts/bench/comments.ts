// Benchmark of GET /comments/{pageId} on the local cloud: requests/s and p50/p99 with
// 1,000 comments on the page (posted through POST /comments with a token), against the same
// Query sent to dynalite directly in the same run as the baseline. The stage's throttling is
// lifted for the run.
//
//   npm run bench:comments [-- --requests 300 --seconds 3 --concurrency 16]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { QueryCommand } from "@aws-sdk/client-dynamodb";
import { LocalCloud } from "../../local/cloud";
import { COMMENTS_TABLE, PAGE_INDEX, WRITE_SCOPE } from "../../modules/comments-api";
import { loadConfig } from "../../stacks/config";
import { http, latency, throughput, type Call } from "../lib/load";
import { synth } from "../lib/synth";

const { values } = parseArgs({
  options: { requests: { type: "string", default: "300" }, seconds: { type: "string", default: "3" }, concurrency: { type: "string", default: "16" } },
});
const REQUESTS = Number(values.requests);
const SECONDS = Number(values.seconds);
const CONCURRENCY = Number(values.concurrency);
const COMMENTS = 1000;
const PAGE = "bench-page";

async function main() {
  const outdir = mkdtempSync(join(tmpdir(), "bench-comments-synth-"));
  const dataDir = mkdtempSync(join(tmpdir(), "bench-comments-"));
  const config = loadConfig();
  config.environments.dev.api = { throttleRateLimit: 1_000_000, throttleBurstLimit: 1_000_000 };
  synth({ target: "aws", outdir, config });
  const cloud = await LocalCloud.start({ outdir, workspace: "dev", dataDir, port: 0 });
  try {
    const api = cloud.endpoints().regions["us-east-1"].apiUrl;
    const token = await cloud.oidc!.issueToken({ clientId: "comments-writer", scopes: [WRITE_SCOPE], audience: config.environments.dev.commentsAuth.audience });
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next < COMMENTS) {
          const n = next++;
          await http(`${api}/comments`, {
            method: "POST",
            headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
            body: JSON.stringify({ pageId: PAGE, userName: `reader-${n}`, message: `Comment number ${n}: "quoted", it's fine.` }),
          }, 200)();
        }
      }),
    );
    const read = await (await fetch(`${api}/comments/${PAGE}`)).json() as { comments: unknown[] };
    if (read.comments.length !== COMMENTS) throw new Error(`the page has ${read.comments.length} comments, expected ${COMMENTS}`);

    const dynamodb = cloud.dynamodbClient("us-east-1");
    const query = new QueryCommand({ TableName: COMMENTS_TABLE, IndexName: PAGE_INDEX, KeyConditionExpression: "pageId = :v1", ExpressionAttributeValues: { ":v1": { S: PAGE } } });
    const cases: Array<[string, Call]> = [
      ["baseline: dynalite Query, direct", async () => {
        const result = await dynamodb.send(query);
        if (result.Count !== COMMENTS) throw new Error(`Query returned ${result.Count} items`);
      }],
      [`GET /comments/{pageId} (${COMMENTS} comments)`, http(`${api}/comments/${PAGE}`, {}, 200)],
    ];
    console.log(`comments bench: ${COMMENTS} comments on the page; ${REQUESTS} sequential requests for latency, ${SECONDS} s at concurrency ${CONCURRENCY} for throughput`);
    for (const [name, call] of cases) {
      const { p50, p99 } = await latency(call, REQUESTS);
      const rps = await throughput(call, SECONDS, CONCURRENCY);
      console.log(`${name.padEnd(44)} p50 ${p50.toFixed(2).padStart(7)} ms  p99 ${p99.toFixed(2).padStart(7)} ms  ${rps.toFixed(0).padStart(6)} req/s`);
    }
    console.log("target: GET /comments/{pageId} at least 500 req/s on 2 cores");
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
