// Beacon traffic for the clickstream pipeline: a TypeScript port of the seed's
// ClickImpressionGenerator.py, same behaviour and the same "_ - +" progress output, plus pacing.
//
//   npm run clickstream:generate -- --url <API base URL> [--rate <requests/s>] [--seed <n>]
//       [--iterations 2500] [--click-rate 0.1] [--anomaly-start 1950] [--anomaly-end 2000] [--anomaly-rate 0.5]
//
// --url is the API's base (e.g. http://127.0.0.1:4000/prod or https://api.example.com/v1);
// beacons go to <url>/beacon?browseraction=Impression|Click. Without --rate, requests go one
// after another as fast as they are answered, as the Python script's did. Windows are 10 s and
// RANDOM_CUT_FOREST scores only after 12 of them: about 50 beacons per window finds the injected
// anomaly (iterations 1950-1999) with the fewest false alerts (npm run bench:detection-quality),
// i.e. --rate 5 against AWS, --rate 50 against `npm start -- --time-scale 10`.
import { randomInt } from "node:crypto";
import { parseArgs } from "node:util";
import { SEED_BEHAVIOUR, optionProblems, sendBeacons, type ClickImpressionOptions } from "./lib/click-impressions";

const USAGE =
  "usage: clickstream-generator --url <API base URL> [--rate <requests/s>] [--seed <n>] [--iterations 2500] " +
  "[--click-rate 0.1] [--anomaly-start 1950] [--anomaly-end 2000] [--anomaly-rate 0.5]";

class UsageError extends Error {
  readonly code = "USAGE";
}

function readOptions(): { url: URL; rate?: number; plan: ClickImpressionOptions } {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        url: { type: "string" },
        rate: { type: "string" },
        seed: { type: "string" },
        iterations: { type: "string" },
        "click-rate": { type: "string" },
        "anomaly-start": { type: "string" },
        "anomaly-end": { type: "string" },
        "anomaly-rate": { type: "string" },
      },
    }));
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const number = (text: string | undefined, fallback: number) => (text === undefined ? fallback : text.trim() === "" ? Number.NaN : Number(text));
  const plan: ClickImpressionOptions = {
    iterations: number(values.iterations, SEED_BEHAVIOUR.iterations),
    clickRate: number(values["click-rate"], SEED_BEHAVIOUR.clickRate),
    anomalyStart: number(values["anomaly-start"], SEED_BEHAVIOUR.anomalyStart),
    anomalyEnd: number(values["anomaly-end"], SEED_BEHAVIOUR.anomalyEnd),
    anomalyRate: number(values["anomaly-rate"], SEED_BEHAVIOUR.anomalyRate),
    seed: number(values.seed, randomInt(2 ** 31)),
  };
  const problems = optionProblems(plan);
  const rate = values.rate === undefined ? undefined : number(values.rate, 0);
  if (rate !== undefined && !(rate > 0 && Number.isFinite(rate))) problems.push(`--rate must be a number of requests per second > 0, got ${values.rate}`);
  let url: URL | undefined;
  if (!values.url) problems.push("--url is required: the API's base URL, e.g. http://127.0.0.1:4000/prod");
  else {
    try {
      url = new URL(values.url);
      if (url.protocol !== "http:" && url.protocol !== "https:") problems.push(`--url must be http(s), got ${values.url}`);
    } catch {
      problems.push(`--url is not a URL: ${values.url}`);
    }
  }
  if (problems.length > 0) throw new UsageError(problems.join("\n"));
  return { url: url!, rate, plan };
}

async function main(): Promise<number> {
  const { url, rate, plan } = readOptions();
  const run = await sendBeacons(url.href, plan, { rate, onProgress: (text) => process.stdout.write(text) });
  if (run.unreachable) process.stderr.write(`\n${run.unreachable}; stopped after ${run.sent} beacons\n`);
  const failed = [...run.refused.values()].reduce((a, b) => a + b, 0);
  const detail = failed > 0 ? `, ${failed} refused (${[...run.refused].map(([k, n]) => `${n} x ${k}`).join(", ")})` : "";
  process.stderr.write(`\n${run.sent} beacons in ${run.seconds.toFixed(1)} s (${(run.sent / run.seconds).toFixed(1)}/s), seed ${plan.seed}${detail}\n`);
  return failed > 0 || run.unreachable ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`${error.message}\n${error instanceof UsageError ? `${USAGE}\n` : ""}`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
  },
);
