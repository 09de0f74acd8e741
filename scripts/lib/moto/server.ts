// Starts moto_server (the moto AWS emulator, from the machine's Python) on a free loopback port
// and stops it again. Every AWS call of a Terraform run against moto goes to this one endpoint.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export class MotoUnavailable extends Error {
  readonly code = "MOTO_UNAVAILABLE";
}

export class MotoFailed extends Error {
  readonly code = "MOTO_FAILED";
}

export interface RunningMoto {
  /** `http://127.0.0.1:<port>` */
  endpoint: string;
  /** The account every call without an assumed role acts in. */
  accountId: string;
  /** moto's own errors so far (tracebacks, 5xx answers), for a failure report. */
  errors(): string;
  stop(): Promise<void>;
}

const COMMAND = process.env.MOTO_SERVER ?? "moto_server";

/** Why moto cannot run here, or undefined when it can. */
export function motoUnavailableReason(): string | undefined {
  const probe = spawnSync(COMMAND, ["--help"], { encoding: "utf8", timeout: 60_000 });
  if (probe.error) return `${COMMAND} is not runnable (${probe.error.message}); install it with pip install "moto[server]==5.2.1"`;
  if (probe.status !== 0) return `${COMMAND} --help exited with ${probe.status}: ${(probe.stderr || probe.stdout).trim().split("\n").pop()}`;
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilServing(endpoint: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new MotoFailed(`moto_server exited with ${child.exitCode} before serving:\n${output()}`);
    try {
      const response = await fetch(`${endpoint}/moto-api/`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new MotoFailed(`moto_server did not answer on ${endpoint} within 60 s:\n${output()}`);
}

/**
 * moto_server on 127.0.0.1 and a free port, acting as `accountId`. AWS managed policies are
 * loaded (roles attach them by ARN), and a DNS-validated certificate is issued
 * `acmValidationWaitSeconds` after it was requested (moto does not look at the validation record;
 * the apply-check checks the record itself).
 */
export async function startMoto(options: { accountId: string; acmValidationWaitSeconds?: number }): Promise<RunningMoto> {
  const reason = motoUnavailableReason();
  if (reason) throw new MotoUnavailable(reason);
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), "moto-"));
  // moto logs every request: to a file, so that a caller blocked in synchronous work can never
  // stall moto on a full pipe.
  const logFile = join(dataDir, "moto.log");
  const logFd = openSync(logFile, "w");
  const child = spawn(COMMAND, ["-H", "127.0.0.1", "-p", String(port)], {
    env: {
      ...process.env,
      MOTO_ACCOUNT_ID: options.accountId,
      MOTO_IAM_LOAD_MANAGED_POLICIES: "true",
      MOTO_ACM_VALIDATION_WAIT: String(options.acmValidationWaitSeconds ?? 5),
      MOTO_LAMBDA_DATA_DIR: dataDir,
    },
    stdio: ["ignore", logFd, logFd],
  });
  closeSync(logFd);
  const logTail = () => readFileSync(logFile, "utf8").slice(-20_000);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const stop = async () => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    await waitUntilServing(endpoint, child, logTail);
  } catch (error) {
    await stop();
    throw error;
  }
  const errors = () => {
    const lines = existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n") : [];
    const from = lines.findIndex((l) => l.startsWith("Traceback") || / 5\d\d -$/.test(l));
    return from < 0 ? "" : lines.slice(from, from + 40).join("\n");
  };
  return { endpoint, accountId: options.accountId, errors, stop };
}
