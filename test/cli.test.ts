// Every `npm run` script behaves like a command-line tool (scripts/lib/cli.ts): `--help` prints
// its usage and options and exits 0; an unknown option or a bad value prints one line naming it,
// then the usage, and exits 2, without a Node stack trace. Each script runs in its own process, as
// npm runs it (the command of package.json, without npm itself in between).
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../scripts/lib/synth";

const commands = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")).scripts as Record<string, string>;
const scripts = Object.keys(commands);
/** Scripts that are not tools of their own: they run the type checker and the test suites. */
const NOT_TOOLS = ["typecheck", "test", "test:firmware"];
const tools = scripts.filter((name) => !NOT_TOOLS.includes(name));

/** One value each script refuses, and the words its one-line complaint must contain. */
const BAD_VALUES: Record<string, { args: string[]; says: string }> = {
  start: { args: ["--port", "http"], says: '--port must be a whole number >= 0 and <= 65535, got "http"' },
  synth: { args: ["--target", "azure"], says: '--target must be one of aws, offline, moto, got "azure"' },
  validate: { args: ["--verbose=yes"], says: "option --verbose takes no value" },
  plan: { args: ["--workspace"], says: "option --workspace needs a value" },
  "apply-check": { args: ["--deploy-with", "pulumi"], says: '--deploy-with must be one of terraform, cdktf, got "pulumi"' },
  guardrails: { args: ["--outdir"], says: "option --outdir needs a value" },
  "guardrails:verify": { args: ["--member-role", "no/slashes"], says: '--member-role must be an IAM role name, got "no/slashes"' },
  "display:test": { args: ["--cycles", "0"], says: '--cycles must be a whole number >= 1, got "0"' },
  "clickstream:generate": { args: ["--url", "http://127.0.0.1:9/prod", "--click-rate", "2"], says: '--click-rate must be a number >= 0 and <= 1, got "2"' },
  drill: { args: ["--region", "us-east-1", "--status", "broken"], says: '--status must be one of fail, ok, got "broken"' },
  clock: { args: ["advance", "ten"], says: 'a duration is a number and a unit (ms, s, m, h, d), e.g. 10s; got "ten"' },
  "dns:check": { args: ["--region", "mars-1"], says: '--region must be an AWS region, e.g. us-east-1, got "mars-1"' },
  "bench:synth": { args: ["--runs", "many"], says: '--runs must be a whole number >= 1, got "many"' },
  "bench:saml": { args: ["--logins=-5"], says: '--logins must be a whole number >= 1, got "-5"' },
  "bench:local-cloud": { args: ["--seconds", "0"], says: '--seconds must be a number > 0, got "0"' },
  "bench:comments": { args: ["--concurrency", "1.5"], says: '--concurrency must be a whole number >= 1, got "1.5"' },
  "bench:streaming-sql": { args: ["--rows", ""], says: '--rows must be a whole number >= 1, got ""' },
  "bench:rcf": { args: ["--points", "1e99x"], says: '--points must be a whole number >= 1, got "1e99x"' },
  "bench:clickstream-scale": { args: ["--shards", "0,2"], says: '--shards takes shard counts from 1 to 64, comma-separated, got "0,2"' },
  "bench:detection-quality": { args: ["--per-window", "50,,200"], says: '--per-window takes whole numbers >= 1 separated by commas, got "50,,200"' },
};

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function runScript(script: string, args: string[]): Promise<Run> {
  return new Promise((resolve, reject) => {
    // What npm runs (`tsx <file> [<args>]`), without npm in between.
    const [runner, ...command] = commands[script].split(" ");
    expect(runner).toBe("tsx");
    const child = spawn(process.execPath, ["--import", "tsx", ...command, ...args], { cwd: REPO_ROOT, env: { ...process.env, NO_COLOR: "1" } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.on("error", reject);
    child.on("close", (status) => resolve({ status, stdout, stderr }));
  });
}

/** What the user types to run a script, as its usage line must name it. */
const commandOf = (script: string) => (script === "start" ? "npm start" : `npm run ${script}`);

function expectRefusal(run: Run, script: string, says: string) {
  expect(run.status, run.stderr).toBe(2);
  const lines = run.stderr.trimEnd().split("\n");
  expect(lines[0]).toBe(says);
  expect(lines[1]).toMatch(new RegExp(`^usage: ${commandOf(script)}( |$)`));
  expect(lines).toHaveLength(2);
  expect(run.stderr).not.toMatch(/^\s+at /m);
}

describe("every npm run script is a command-line tool", () => {
  it("has a bad value to refuse for every script, and no entry for a script that is gone", () => {
    expect(Object.keys(BAD_VALUES).sort()).toEqual([...tools].sort());
  });

  it.concurrent.each(tools)("%s --help prints its usage and options and exits 0", async (script) => {
    const run = await runScript(script, ["--help"]);
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`^usage: ${commandOf(script)}( |\\n)`));
    expect(run.stdout).toContain("\noptions:\n");
    expect(run.stdout).toContain("-h, --help");
    expect(run.stderr).toBe("");
  }, 60_000);

  it.concurrent.each(tools)("%s --no-such-option names it, shows the usage and exits 2", async (script) => {
    expectRefusal(await runScript(script, ["--no-such-option"]), script, "unknown option --no-such-option");
  }, 60_000);

  it.concurrent.each(tools)("%s refuses a bad value with one line naming it and the usage, exit 2", async (script) => {
    const { args, says } = BAD_VALUES[script];
    expectRefusal(await runScript(script, args), script, says);
  }, 60_000);

  it("npm start documents --var and --outdir", async () => {
    const { stdout } = await runScript("start", ["--help"]);
    expect(stdout).toMatch(/^ {2}--var <name=value> +a value for a Terraform variable/m);
    expect(stdout).toMatch(/^ {2}--outdir <dir> +deploy an app synthesized before/m);
  }, 60_000);

  it("npm start on a port already in use says which port and how to choose another", async () => {
    const holder = createServer();
    const port = await new Promise<number>((resolve) => holder.listen(0, "127.0.0.1", () => resolve((holder.address() as { port: number }).port)));
    try {
      // An app with no stacks: the local cloud fails on its first port before deploying anything.
      const outdir = mkdtempSync(join(tmpdir(), "cli-empty-app-"));
      writeFileSync(join(outdir, "manifest.json"), JSON.stringify({ stacks: {} }));
      const run = await runScript("start", ["--port", String(port), "--outdir", outdir, "--data-dir", mkdtempSync(join(tmpdir(), "cli-data-"))]);
      expect(run.status).toBe(1);
      expect(run.stderr.trim()).toBe(
        `npm start failed (PORT_IN_USE): port ${port} on 127.0.0.1 is already in use (the local cloud listens on consecutive ports from --port ${port}). ` +
          "Stop what holds it (is another npm start running?), or choose another first port with --port <n>, or --port 0 for free ports.",
      );
    } finally {
      holder.close();
    }
  }, 60_000);
});
