// Benchmark of the local cloud's request path: latency p50/p99 and requests/s
// of a MOCK route (API Gateway overhead alone) and a Lambda proxy route, against a direct call to
// dynalite measured in the same run as the baseline. The stage's throttling is lifted for the run.
//
//   options: npm run bench:local-cloud -- --help
import { GetItemCommand } from "@aws-sdk/client-dynamodb";
import { withUnthrottledCloud } from "../lib/bench-cloud";
import { defineCli } from "../lib/cli";
import { http, loadOptions, loadSettings, measureCases, type Call } from "../lib/load";

const cli = defineCli({
  command: "npm run bench:local-cloud --",
  summary:
    "The local cloud's request path: p50/p99 and requests/s of a MOCK route (API Gateway's own overhead) and a Lambda proxy route, against a " +
    "direct dynalite call in the same run. The stage's throttling is lifted for the run. Target: MOCK route p50 under 2 ms.",
  options: loadOptions(1000),
});

cli.main(async ({ values }) => {
  const settings = loadSettings(values);
  await withUnthrottledCloud("bench-local-cloud", async (cloud) => {
    const api = cloud.endpoints().regions["us-east-1"].apiUrl;
    const dynamodb = cloud.dynamodbClient("us-east-1");
    const cases: Array<[string, Call]> = [
      ["baseline: dynalite GetItem, direct", () => dynamodb.send(new GetItemCommand({ TableName: "SAMLSessions", Key: { identityhash: { S: "bench" } } }))],
      ["MOCK route (OPTIONS /users, CORS preflight)", http(`${api}/users`, { method: "OPTIONS" }, 200)],
      ["Lambda proxy route (GET /helloworld)", http(`${api}/helloworld`, {}, 200)],
    ];
    console.log("local cloud bench");
    await measureCases(cases, settings);
    console.log("target: MOCK route p50 under 2 ms (API Gateway overhead)");
  });
  return 0;
});
