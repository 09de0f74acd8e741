// The display test: one cycle of the unchanged firmware (firmware/code.py on the simulated
// PyPortal) against a Mars endpoint, a check of what the screen shows, and a PNG of it
// (options: npm run display:test -- --help).
//
// Prints what the screen shows and any problem, then the PNG's path on the last line. Exit code
// 0 when the screen is right, 1 when it is not, 2 when the endpoint cannot be determined.
import { execFile } from "node:child_process";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { defineCli, integerOption, runsAsScript, UsageError } from "./lib/cli";
import { ENDPOINTS_FILE, LocalEndpointsError, readLocalEndpoints } from "./lib/local-endpoints";

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const FIRMWARE_DIR = join(REPO_ROOT, "firmware");
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
export function endpointFromLocalCloud(file = ENDPOINTS_FILE): Endpoint {
  const { url, apiKey } = readLocalEndpoints(file).mars ?? {};
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

const cli = defineCli({
  command: "npm run display:test --",
  summary:
    "Runs one cycle of the unchanged firmware (firmware/code.py) on the simulated PyPortal against a Mars endpoint, checks what the screen shows " +
    "and writes a PNG of it. The endpoint is the running local cloud's (.local/endpoints.json), or --url and --api-key, or a deployed stack's outputs.",
  options: {
    url: { type: "string", value: "<url>", description: "GET /mars of any deployment (with --api-key)" },
    "api-key": { type: "string", value: "<key>", description: "its API key (with --url)" },
    "from-terraform": { type: "string", value: "<stack dir>", description: "read MarsApiUrl and MarsApiKey from `terraform output -json` in a deployed stack's directory" },
    endpoints: { type: "string", value: "<file>", description: "the running local cloud's endpoints (default .local/endpoints.json)" },
    png: { type: "string", value: "<file>", description: "where the screen goes (default .local/display-test/screen.png)" },
    cycles: { type: "string", value: "<n>", default: "1", description: "firmware cycles to run" },
  },
  notes: ["exit code: 0 when the screen is right, 1 when it is not, 2 when the endpoint cannot be determined or the command line is wrong"],
});

if (runsAsScript(import.meta.url)) {
  cli.main(async ({ values }) => {
    const cycles = integerOption("cycles", values.cycles, { min: 1 });
    let endpoint: Endpoint;
    try {
      if (values.url !== undefined || values["api-key"] !== undefined) {
        if (!values.url || !values["api-key"]) throw new UsageError("--url and --api-key go together");
        endpoint = { url: values.url, apiKey: values["api-key"], source: "the command line" };
      } else if (values["from-terraform"] !== undefined) {
        endpoint = await endpointFromTerraform(resolve(values["from-terraform"]));
      } else {
        endpoint = endpointFromLocalCloud(values.endpoints);
      }
      const report = await runDisplayTest({ endpoint, png: values.png, cycles });
      console.log(describe(report, endpoint));
      console.log(report.png);
      return report.problems.length === 0 ? 0 : 1;
    } catch (error) {
      if (!(error instanceof DisplayTestSetupError || error instanceof LocalEndpointsError)) throw error;
      console.error(`display test: ${error.message}`);
      return 2;
    }
  });
}
