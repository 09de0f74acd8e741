// npm run bench:saml: the SAML login's figures (options: npm run bench:saml -- --help).
// - cold init of each bundle (the esbuild zips Lambda runs) in a fresh Node process, against a
//   baseline: a fresh process importing nothing;
// - the first login after start (schema compilation included) and ProcessSAML warm p50/p99,
//   handler in-process against dynalite and the local KMS/STS (the local cloud adds its API
//   Gateway on top: see the local cloud's own benchmark);
// - the schema validator: per-call time and memory growth over many calls, against the baseline
//   one of the validators samlify suggests, @authenio/samlify-xmllint-wasm, on the same document in the same run;
// - whole logins through the local cloud (IdP form -> API Gateway -> ProcessSAML), posted to the
//   authority region (its writes stay in the region, the path every login had before the authority
//   region) against logins posted to the other region, whose claim and parked credentials are
//   written across regions. Loopback has no distance: in AWS each of those two writes also pays one
//   round trip between the regions.
// Targets: warm p50 < 50 ms, first login < 1 s, cold init < 300 ms, no memory growth.
import { execFileSync } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { unzipSync } from "fflate";
import { readFileSync, writeFileSync, mkdirSync } from "node:fs";
import { bundleLambda } from "../../modules/nodejs-function/bundle";
import { buildSamlResponse } from "../../local/standins/idp/saml-response";
import { localIdpKey, LOCAL_IDP_ENTITY_ID } from "../../local/standins/idp/metadata";
import { ACCOUNT, ACS_URL, AWS_AUDIENCE, PROVIDER_ARN, startSamlCloud } from "../../test/helpers/saml-cloud";
import { samlBrowser } from "../../test/helpers/saml-browser";
import { withUnthrottledCloud } from "../lib/bench-cloud";
import { defineCli, integerOption } from "../lib/cli";

const BASELINE_VALIDATIONS = 20;

const cli = defineCli({
  command: "npm run bench:saml --",
  summary:
    "The SAML login's figures: cold init of the ProcessSAML and authorizer bundles (baseline: an empty fresh process), the first login and " +
    "ProcessSAML warm p50/p99 against dynalite and the local KMS/STS, and the schema validator's time and memory growth " +
    "(baseline: @authenio/samlify-xmllint-wasm), and whole logins through the local cloud posted to each region (the authority region's writes stay in it). Targets: warm p50 < 50 ms, first login < 1 s, cold init < 300 ms, no memory growth.",
  options: {
    logins: { type: "string", value: "<n>", default: "200", description: "warm logins measured" },
    validations: { type: "string", value: "<n>", default: "2000", description: "schema validations measured" },
    "cloud-logins": { type: "string", value: "<n>", default: "100", description: "logins through the local cloud measured per region" },
  },
});
const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];
const percentile = (v: number[], p: number) => [...v].sort((a, b) => a - b)[Math.min(v.length - 1, Math.floor((v.length * p) / 100))];
const ms = (n: number) => `${n.toFixed(1)} ms`;

function response(): string {
  return buildSamlResponse(
    {
      issuer: LOCAL_IDP_ENTITY_ID,
      destination: ACS_URL,
      audience: AWS_AUDIENCE,
      nameId: "EXAMPLE\\bob",
      attributes: {
        "https://aws.amazon.com/SAML/Attributes/RoleSessionName": ["bob@example.com"],
        "https://aws.amazon.com/SAML/Attributes/Role": [`${PROVIDER_ARN},arn:aws:iam::${ACCOUNT}:role/ADFS-Production`],
      },
    },
    localIdpKey(),
  );
}

function timeInFreshProcess(code: string): number {
  const out = execFileSync(process.execPath, ["--input-type=module", "--no-warnings", "-e", code], { encoding: "utf8" });
  return Number(out.trim().split("\n").pop());
}

function coldInit() {
  const dir = mkdtempSync(join(tmpdir(), "saml-bench-"));
  const baseline = median([1, 2, 3].map(() => timeInFreshProcess("const t=performance.now(); await Promise.resolve(); console.log(performance.now()-t)")));
  console.log(`cold init (median of 3 fresh processes; baseline empty import ${ms(baseline)})`);
  for (const entry of ["lambdas/process-saml/index.ts", "lambdas/saml-authorizer/index.ts"]) {
    const bundle = bundleLambda(entry, join(dir, "zips"), "esm");
    const codeDir = join(dir, entry.split("/")[1]);
    mkdirSync(codeDir, { recursive: true });
    for (const [name, bytes] of Object.entries(unzipSync(readFileSync(bundle.zipPath)))) writeFileSync(join(codeDir, name), bytes);
    const samples = [1, 2, 3].map(() =>
      timeInFreshProcess(`const t=performance.now(); await import(${JSON.stringify(join(codeDir, "index.mjs"))}); console.log(performance.now()-t)`),
    );
    console.log(`  ${entry.padEnd(34)} ${ms(median(samples)).padStart(9)}  zip ${(bundle.sizeBytes / 1024).toFixed(0)} KiB  (target < 300 ms, < 1024 KiB)`);
  }
}

async function logins(count: number) {
  const cloud = await startSamlCloud();
  Object.assign(process.env, cloud.environment);
  const startedAt = performance.now();
  const { handler } = await import("../../lambdas/process-saml/index");
  const login = async () => {
    const form = new URLSearchParams({ SAMLResponse: Buffer.from(response()).toString("base64"), RelayState: `${randomUUID()}:${randomBytes(16).toString("base64url")}` });
    const t = performance.now();
    const { location } = await handler({ body: Buffer.from(form.toString()).toString("base64"), requestId: randomUUID() });
    if (!location.includes("#token=")) throw new Error(`login refused: ${location}`);
    return performance.now() - t;
  };
  const first = await login();
  console.log(`first login after start: ${ms(performance.now() - startedAt)} including the handler's import, ${ms(first)} the request itself (target < 1 s)`);
  const samples: number[] = [];
  for (let i = 0; i < count; i++) samples.push(await login());
  console.log(`ProcessSAML warm, ${count} logins: p50 ${ms(percentile(samples, 50))}, p99 ${ms(percentile(samples, 99))} (target p50 < 50 ms)`);
  await cloud.stop();
}

async function validator(count: number) {
  const { validateSamlDocument } = await import("../../lambdas/lib/saml/schema-validator");
  const xml = response();
  validateSamlDocument(xml);
  const rssBefore = process.memoryUsage().rss;
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const t = performance.now();
    validateSamlDocument(xml);
    times.push(performance.now() - t);
  }
  const growth = (process.memoryUsage().rss - rssBefore) / 1024 / 1024;
  const { validate } = await import("@authenio/samlify-xmllint-wasm");
  const baseline: number[] = [];
  for (let i = 0; i < BASELINE_VALIDATIONS; i++) {
    const t = performance.now();
    await validate(xml);
    baseline.push(performance.now() - t);
  }
  console.log(
    `schema validator (libxml2-wasm, schemas compiled once): p50 ${ms(percentile(times, 50))}, p99 ${ms(percentile(times, 99))}, ` +
      `RSS ${growth >= 0 ? "+" : ""}${growth.toFixed(1)} MB over ${count} calls; ` +
      `baseline @authenio/samlify-xmllint-wasm p50 ${ms(median(baseline))} over ${BASELINE_VALIDATIONS} calls`,
  );
}

async function cloudLogins(count: number) {
  // Throttling lifted: 100 logins in a row would meet POST /saml's per-method limit, not the login's cost.
  await withUnthrottledCloud("saml-bench", async (cloud, config) => {
    const browser = samlBrowser(cloud);
    const authority = config.environments.dev.saml.authorityRegion;
    const regions = [authority, ...Object.keys(cloud.endpoints().regions).filter((r) => r !== authority)];
    console.log(`logins through the local cloud (API Gateway + ProcessSAML; the IdP's form prepared beforehand), ${count} per region after 5 warm-up logins:`);
    for (const region of regions) {
      const post = async () => {
        const { form } = await browser.prepare("bob", "bob-local-password");
        const t = performance.now();
        const answer = await browser.post(form, region);
        if (!answer.token) throw new Error(`login refused in ${region}: ${answer.location}`);
        return performance.now() - t;
      };
      for (let i = 0; i < 5; i++) await post();
      const samples: number[] = [];
      for (let i = 0; i < count; i++) samples.push(await post());
      const what = region === authority ? "authority region (writes in-region: the path before)" : "other region (claim and park in the authority region)";
      console.log(`  posted to ${region}, ${what}: p50 ${ms(percentile(samples, 50))}, p99 ${ms(percentile(samples, 99))}`);
    }
  });
}

cli.main(async ({ values }) => {
  const warmLogins = integerOption("logins", values.logins, { min: 1 });
  const validations = integerOption("validations", values.validations, { min: 1 });
  const cloudLoginCount = integerOption("cloud-logins", values["cloud-logins"], { min: 1 });
  coldInit();
  await logins(warmLogins);
  await validator(validations);
  await cloudLogins(cloudLoginCount);
  return 0;
});
