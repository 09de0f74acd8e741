// npm start: synthesizes the app and deploys one workspace into the local cloud, then serves it
// until Ctrl-C (options: npm start -- --help).
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import type { LocalCloud, LocalEndpoints } from "../local/cloud";
import { defineCli, instantOption, integerOption, numberOption, UsageError } from "./lib/cli";
import { ENDPOINTS_FILE } from "./lib/local-endpoints";
const DEFAULT_PORT = "4600";

const cli = defineCli({
  command: "npm start --",
  summary:
    "Synthesizes the app as `cdktf deploy` would (target aws), deploys every stack of one workspace into AWS services " +
    "emulated on 127.0.0.1, writes the endpoints to .local/endpoints.json and serves them until Ctrl-C.",
  options: {
    workspace: { type: "string", value: "<name>", default: "dev", description: "the Terraform workspace (environment of config/environments.json) to deploy" },
    "data-dir": { type: "string", value: "<dir>", default: ".local/data", description: "where DynamoDB, S3, KMS keys and credentials are kept across restarts" },
    port: {
      type: "string",
      value: "<n>",
      default: DEFAULT_PORT,
      description: "first port of the consecutive ports the emulators listen on; 0 lets the system choose free ones",
    },
    clock: {
      type: "string",
      value: "scaled|manual",
      default: "scaled",
      description: "scaled: real time, --time-scale times faster; manual: time moves only when told (npm run clock -- advance 10s)",
    },
    "time-scale": { type: "string", value: "<x>", description: "with the scaled clock: it runs this many times faster than real time (default 1)" },
    "clock-start": { type: "string", value: "<instant>", description: "with the manual clock: the ISO 8601 instant it starts at (default: now)" },
    var: {
      type: "string",
      value: "<name=value>",
      multiple: true,
      description: "a value for a Terraform variable of the stacks, as `terraform apply -var` takes it",
    },
    outdir: {
      type: "string",
      value: "<dir>",
      description: "deploy an app synthesized before (`npm run synth -- --outdir <dir>`) instead of synthesizing it now",
    },
  },
  notes: [
    "examples:",
    "  npm start -- --workspace dev --port 4600 --time-scale 10",
    "  npm start -- --clock manual --clock-start 2026-01-01T23:59:00Z    then: npm run clock -- advance 90s",
    "  npm start -- --port 0 --data-dir /tmp/platform    free ports, throwaway data",
  ],
});

function variables(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 1) throw new UsageError(`--var takes name=value, got "${pair}"`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

function describeEndpoints(endpoints: LocalEndpoints): string {
  const lines = [`Local cloud ready (workspace ${endpoints.workspace}, data in ${endpoints.dataDir}):`];
  for (const [region, e] of Object.entries(endpoints.regions)) {
    lines.push(`  ${region}`, `    API      ${e.apiUrl}`, `    health   ${e.healthUrl}`, `    logs     ${e.logs}`);
  }
  for (const skipped of endpoints.stacks.skipped) lines.push(`  not deployed: ${skipped.stack}: ${skipped.reason}`);
  return lines.join("\n");
}

/** A port taken by another process: which one, and how to choose another. */
class PortInUseError extends Error {
  readonly code = "PORT_IN_USE";
  constructor(port: number, firstPort: number) {
    super(
      `port ${port} on 127.0.0.1 is already in use` +
        (firstPort === 0 ? "" : ` (the local cloud listens on consecutive ports from --port ${firstPort})`) +
        `. Stop what holds it (is another npm start running?), or choose another first port with --port <n>, or --port 0 for free ports.`,
    );
  }
}

cli.main(async ({ values }) => {
  const port = integerOption("port", values.port, { min: 0, max: 65535 });
  const clock = values.clock;
  if (clock !== "scaled" && clock !== "manual") throw new UsageError(`--clock is scaled or manual, got "${clock}"`);
  if (clock === "manual" && values["time-scale"] !== undefined) throw new UsageError("--time-scale goes with --clock scaled: a manual clock moves only when told");
  if (clock === "scaled" && values["clock-start"] !== undefined) throw new UsageError("--clock-start goes with --clock manual: a scaled clock starts at the real time");
  const timeScale = values["time-scale"] === undefined ? undefined : numberOption("time-scale", values["time-scale"], { above: 0 });
  const clockStart = values["clock-start"] === undefined ? undefined : instantOption("clock-start", values["clock-start"]);
  const vars = variables(values.var);
  const [{ LocalCloud }, { synth }] = await Promise.all([import("../local/cloud"), import("./lib/synth")]);
  let outdir: string;
  if (values.outdir) outdir = resolve(values.outdir);
  else {
    console.log("synth: target aws (what `cdktf deploy` would deploy)");
    ({ outdir } = synth({ target: "aws" }));
  }
  let cloud: LocalCloud;
  try {
    cloud = await LocalCloud.start({ outdir, workspace: values.workspace, dataDir: resolve(values["data-dir"]), port, clock, timeScale, clockStart, variables: vars, log: (line) => console.log(line) });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { port?: number };
    if (e.code === "EADDRINUSE" && e.port !== undefined) throw new PortInUseError(e.port, port);
    throw error;
  }
  const endpoints = cloud.endpoints();
  mkdirSync(dirname(ENDPOINTS_FILE), { recursive: true });
  writeFileSync(ENDPOINTS_FILE, `${JSON.stringify(endpoints, null, 2)}\n`);
  console.log(`${describeEndpoints(endpoints)}\nEndpoints written to ${ENDPOINTS_FILE}. Ctrl-C stops.`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the local cloud (data kept in ${endpoints.dataDir})`);
    await cloud.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop("SIGINT"));
  process.on("SIGTERM", () => void stop("SIGTERM"));
  // Every region and account runs in this process: a stray failure is logged, and the rest keeps serving.
  process.on("unhandledRejection", (reason) => console.error(`local cloud: unhandled rejection (kept running): ${(reason as Error)?.stack ?? String(reason)}`));
  process.on("uncaughtException", (error) => console.error(`local cloud: uncaught exception (kept running): ${error.stack ?? String(error)}`));
});
