// Benchmark of GET /comments/{pageId} on the local cloud: requests/s and p50/p99 with
// 1,000 comments on the page (posted through POST /comments with a token), against the same
// Query sent to dynalite directly in the same run as the baseline. The stage's throttling is
// lifted for the run.
//
//   options: npm run bench:comments -- --help
import { QueryCommand } from "@aws-sdk/client-dynamodb";
import { withUnthrottledCloud } from "../lib/bench-cloud";
import { defineCli } from "../lib/cli";
import { http, loadOptions, loadSettings, measureCases, type Call } from "../lib/load";

const COMMENTS = 1000;
const PAGE = "bench-page";

const cli = defineCli({
  command: "npm run bench:comments --",
  summary:
    `GET /comments/{pageId} on the local cloud with ${COMMENTS} comments on the page: p50/p99 and requests/s, against the same Query sent to ` +
    "dynalite directly in the same run. The stage's throttling is lifted for the run. Target: at least 500 req/s on 2 cores.",
  options: loadOptions(300),
});

cli.main(async ({ values }) => {
  const settings = loadSettings(values);
  const { COMMENTS_TABLE, PAGE_INDEX, WRITE_SCOPE } = await import("../../modules/comments-api");
  await withUnthrottledCloud("bench-comments", async (cloud, config) => {
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
    console.log(`comments bench: ${COMMENTS} comments on the page`);
    await measureCases(cases, settings);
    console.log("target: GET /comments/{pageId} at least 500 req/s on 2 cores");
  });
  return 0;
});
