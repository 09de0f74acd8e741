// Beacon traffic for the clickstream pipeline: a TypeScript port of the seed's
// ClickImpressionGenerator.py, same behaviour and the same "_ - +" progress output, plus pacing
// (options: npm run clickstream:generate -- --help).
//
// Windows are 10 s and RANDOM_CUT_FOREST scores only after 12 of them: about 50 beacons per
// window finds the injected anomaly (iterations 1950-1999) with the fewest false alerts (npm run
// bench:detection-quality), i.e. --rate 5 against AWS, --rate 50 against `npm start -- --time-scale 10`.
import { randomInt } from "node:crypto";
import { defineCli, integerOption, numberOption, UsageError } from "./lib/cli";
import { SEED_BEHAVIOUR, sendBeacons } from "./lib/click-impressions";

const probability = (name: string, text: string) => numberOption(name, text, { min: 0, max: 1 });

const cli = defineCli({
  command: "npm run clickstream:generate --",
  summary:
    "Sends the seed's beacon traffic (an Impression per iteration, a Click with the click rate) to <url>/beacon?browseraction=Impression|Click, " +
    "printing _ (normal), - (anomaly) and + (click) as the Python script did.",
  options: {
    url: { type: "string", value: "<API base URL>", required: true, description: "the API's base, e.g. http://127.0.0.1:4000/prod or https://api.example.com/v1" },
    rate: { type: "string", value: "<requests/s>", description: "pace the requests; without it they go one after another as fast as they are answered" },
    seed: { type: "string", value: "<n>", description: "seed of the clicks' random draws (default: a random one, printed at the end)" },
    iterations: { type: "string", value: "<n>", default: String(SEED_BEHAVIOUR.iterations), description: "impressions to send" },
    "click-rate": { type: "string", value: "<p>", default: String(SEED_BEHAVIOUR.clickRate), description: "probability of a click outside the anomaly" },
    "anomaly-start": { type: "string", value: "<i>", default: String(SEED_BEHAVIOUR.anomalyStart), description: "first iteration of the anomaly" },
    "anomaly-end": { type: "string", value: "<i>", default: String(SEED_BEHAVIOUR.anomalyEnd), description: "first iteration after the anomaly" },
    "anomaly-rate": { type: "string", value: "<p>", default: String(SEED_BEHAVIOUR.anomalyRate), description: "probability of a click during the anomaly" },
  },
  notes: ["exit code: 0 when every beacon was accepted, 1 when some were refused or the API stopped answering, 2 for a mistake on the command line"],
});

function parseUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--url is not a URL: "${text}"`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new UsageError(`--url must be http(s), got "${text}"`);
  return url;
}

cli.main(async ({ values }) => {
  const url = parseUrl(values.url);
  const rate = values.rate === undefined ? undefined : numberOption("rate", values.rate, { above: 0 });
  const anomalyStart = integerOption("anomaly-start", values["anomaly-start"], { min: 0 });
  const plan = {
    iterations: integerOption("iterations", values.iterations, { min: 1 }),
    clickRate: probability("click-rate", values["click-rate"]),
    anomalyStart,
    anomalyEnd: integerOption("anomaly-end", values["anomaly-end"], { min: anomalyStart }),
    anomalyRate: probability("anomaly-rate", values["anomaly-rate"]),
    seed: values.seed === undefined ? randomInt(2 ** 31) : integerOption("seed", values.seed),
  };
  const run = await sendBeacons(url.href, plan, { rate, onProgress: (text) => process.stdout.write(text) });
  if (run.unreachable) process.stderr.write(`\n${run.unreachable}; stopped after ${run.sent} beacons\n`);
  const failed = [...run.refused.values()].reduce((a, b) => a + b, 0);
  const detail = failed > 0 ? `, ${failed} refused (${[...run.refused].map(([k, n]) => `${n} x ${k}`).join(", ")})` : "";
  process.stderr.write(`\n${run.sent} beacons in ${run.seconds.toFixed(1)} s (${(run.sent / run.seconds).toFixed(1)}/s), seed ${plan.seed}${detail}\n`);
  return failed > 0 || run.unreachable ? 1 : 0;
});
