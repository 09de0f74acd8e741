// npm start [-- --workspace dev] [--data-dir .local/data] [--port 4600] [--time-scale 1] [--var name=value]
// Synthesizes the app and deploys it into the local cloud, then serves it until Ctrl-C.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { LocalCloud, type LocalEndpoints } from "../local/cloud";
import { REPO_ROOT, synth } from "./lib/synth";

export const ENDPOINTS_FILE = join(REPO_ROOT, ".local", "endpoints.json");

const { values } = parseArgs({
  options: {
    workspace: { type: "string", default: "dev" },
    "data-dir": { type: "string", default: join(REPO_ROOT, ".local", "data") },
    port: { type: "string", default: "4600" },
    "time-scale": { type: "string", default: "1" },
    var: { type: "string", multiple: true, default: [] },
    outdir: { type: "string" },
  },
});

function numberOption(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got "${value}"`);
  return n;
}

function variables(pairs: string[]): Record<string, string> {
  return Object.fromEntries(
    pairs.map((pair) => {
      const eq = pair.indexOf("=");
      if (eq < 1) throw new Error(`--var takes name=value, got "${pair}"`);
      return [pair.slice(0, eq), pair.slice(eq + 1)];
    }),
  );
}

export function describeEndpoints(endpoints: LocalEndpoints): string {
  const lines = [`Local cloud ready (workspace ${endpoints.workspace}, data in ${endpoints.dataDir}):`];
  for (const [region, e] of Object.entries(endpoints.regions)) {
    lines.push(`  ${region}`, `    API      ${e.apiUrl}`, `    health   ${e.healthUrl}`, `    logs     ${e.logs}`);
  }
  for (const skipped of endpoints.stacks.skipped) lines.push(`  not deployed: ${skipped.stack}: ${skipped.reason}`);
  return lines.join("\n");
}

async function main() {
  const port = numberOption("port", values.port!, 0);
  const timeScale = numberOption("time-scale", values["time-scale"]!, 0.001);
  console.log("synth: target aws (what `cdktf deploy` would deploy)");
  const { outdir } = values.outdir ? { outdir: resolve(values.outdir) } : synth({ target: "aws" });
  const cloud = await LocalCloud.start({
    outdir,
    workspace: values.workspace!,
    dataDir: values["data-dir"]!,
    port,
    timeScale,
    variables: variables(values.var!),
    log: (line) => console.log(line),
  });
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
}

main().catch((error: Error & { code?: string }) => {
  console.error(`\nnpm start failed${error.code ? ` (${error.code})` : ""}: ${error.message}`);
  process.exit(1);
});
