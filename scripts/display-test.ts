// The display test: one cycle of the unchanged firmware (firmware/code.py on the simulated
// PyPortal) against a Mars endpoint, a check of what the screen shows, and a PNG of it.
//
//   npm run display:test                                   the local cloud (.local/endpoints.json)
//   npm run display:test -- --url URL --api-key KEY        any endpoint
//   npm run display:test -- --from-terraform <stack dir>   a deployed stack (terraform output -json)
//   options: --png <file> (default .local/display-test/screen.png), --cycles <n>
//
// Prints what the screen shows and any problem, then the PNG's path on the last line. Exit code
// 0 when the screen is right, 1 when it is not, 2 when the endpoint cannot be determined.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs, promisify } from "node:util";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const FIRMWARE_DIR = join(REPO_ROOT, "firmware");
const DEFAULT_ENDPOINTS = join(REPO_ROOT, ".local", "endpoints.json");
const DEFAULT_PNG = join(REPO_ROOT, ".local", "display-test", "screen.png");
const run = promisify(execFile);

export class DisplayTestSetupError extends Error {
  readonly code = "DISPLAY_TEST_SETUP";
}

export interface Endpoint {
  url: string;
  apiKey: string;
  /** Where the endpoint came from, for the report. */
  source: string;
}

export interface DisplayTestOptions {
  endpoint: Endpoint;
  png?: string;
  cycles?: number;
}

/** The simulator's report (firmware/sim/__main__.py). */
export interface DisplayTestReport {
  png: string;
  problems: string[];
  screen?: string[];
  crash: string | null;
  console: string[];
  answer?: { image_url: string; insight: Record<string, unknown>; stale: boolean } | null;
  bmp?: Record<string, unknown>;
}

/** The local cloud writes `mars.url` and `mars.apiKey` to .local/endpoints.json when it is ready. */
export function endpointFromLocalCloud(file = DEFAULT_ENDPOINTS): Endpoint {
  let endpoints: { mars?: { url?: unknown; apiKey?: unknown } };
  try {
    endpoints = JSON.parse(readFileSync(file, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "does not exist" : `cannot be read: ${(error as Error).message}`;
    throw new DisplayTestSetupError(`${file} ${reason}. Start the local cloud (npm start) or pass --url and --api-key, or --from-terraform <stack dir>.`);
  }
  const { url, apiKey } = endpoints.mars ?? {};
  if (typeof url !== "string" || typeof apiKey !== "string") {
    throw new DisplayTestSetupError(`${file} has no mars.url and mars.apiKey: is the mars-display module deployed in the local cloud?`);
  }
  return { url, apiKey, source: file };
}

/** MarsApiUrl and MarsApiKey from `terraform output -json` in a stack directory (its current workspace). */
export async function endpointFromTerraform(stackDir: string): Promise<Endpoint> {
  let stdout: string;
  try {
    ({ stdout } = await run("terraform", ["output", "-json"], {
      cwd: stackDir,
      env: { ...process.env, TF_IN_AUTOMATION: "1", TF_INPUT: "0" },
      maxBuffer: 16 * 1024 * 1024,
    }));
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: string };
    throw new DisplayTestSetupError(
      e.code === "ENOENT" && !e.stderr
        ? `cannot run terraform in ${stackDir}: ${e.message}`
        : `terraform output -json failed in ${stackDir}: ${(e.stderr || e.message).trim()}`,
    );
  }
  const outputs = JSON.parse(stdout) as Record<string, { value?: unknown }>;
  const url = outputs.MarsApiUrl?.value;
  const apiKey = outputs.MarsApiKey?.value;
  if (typeof url !== "string" || typeof apiKey !== "string") {
    const have = Object.keys(outputs).join(", ") || "none";
    throw new DisplayTestSetupError(`${stackDir} has no MarsApiUrl and MarsApiKey outputs (it has: ${have}); is it a regional platform stack that was applied?`);
  }
  return { url, apiKey, source: `terraform output in ${stackDir}` };
}

/** Runs the firmware in the simulator against the endpoint and returns the simulator's report. */
export async function runDisplayTest(options: DisplayTestOptions): Promise<DisplayTestReport> {
  const png = resolve(options.png ?? DEFAULT_PNG);
  const args = ["-m", "sim", "--url", options.endpoint.url, "--api-key", options.endpoint.apiKey, "--png", png, "--cycles", String(options.cycles ?? 1)];
  let stdout: string;
  try {
    ({ stdout } = await run("python3", args, { cwd: FIRMWARE_DIR, maxBuffer: 16 * 1024 * 1024, timeout: 5 * 60_000 }));
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    // Exit code 1 is a screen that is not right: the report says why.
    if (!e.stdout) throw new DisplayTestSetupError(`the simulator (python3 -m sim in firmware/) did not run: ${(e.stderr || e.message).trim()}`);
    stdout = e.stdout;
  }
  return JSON.parse(stdout) as DisplayTestReport;
}

function describe(report: DisplayTestReport, endpoint: Endpoint): string {
  const lines = [`Display test against ${endpoint.url} (from ${endpoint.source})`];
  if (report.screen) lines.push("The screen shows:", ...report.screen.map((text) => `  | ${text}`));
  if (report.answer) lines.push(`The API answered sol ${String(report.answer.insight?.sol)}${report.answer.stale ? " (stale)" : ""}.`);
  lines.push(report.problems.length === 0 ? "OK: the screen shows the endpoint's answer." : "FAILED:");
  lines.push(...report.problems.map((p) => `  - ${p}`));
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      "api-key": { type: "string" },
      "from-terraform": { type: "string" },
      endpoints: { type: "string" },
      png: { type: "string" },
      cycles: { type: "string" },
    },
    strict: true,
  });
  let endpoint: Endpoint;
  try {
    if (values.url !== undefined || values["api-key"] !== undefined) {
      if (!values.url || !values["api-key"]) throw new DisplayTestSetupError("--url and --api-key go together");
      endpoint = { url: values.url, apiKey: values["api-key"], source: "the command line" };
    } else if (values["from-terraform"] !== undefined) {
      endpoint = await endpointFromTerraform(resolve(values["from-terraform"]));
    } else {
      endpoint = endpointFromLocalCloud(values.endpoints);
    }
    const cycles = values.cycles === undefined ? 1 : Number(values.cycles);
    if (!Number.isInteger(cycles) || cycles < 1) throw new DisplayTestSetupError(`--cycles must be a whole number above 0, got "${values.cycles}"`);
    const report = await runDisplayTest({ endpoint, png: values.png, cycles });
    console.log(describe(report, endpoint));
    console.log(report.png);
    return report.problems.length === 0 ? 0 : 1;
  } catch (error) {
    if (error instanceof DisplayTestSetupError) {
      console.error(`display test: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => process.exit(code));
}
