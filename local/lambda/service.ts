// Lambda for the local cloud: functions from their Terraform configuration and zip, run in
// worker threads. A worker is an execution environment: its own process.env (the function's
// environment plus what Lambda sets), the bundle loaded once, one invocation at a time, reused
// while warm; the timeout and the memory size are enforced as Lambda enforces them.
import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import type { Writable } from "node:stream";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { unzipSync } from "fflate";
import type { LogGroups } from "../logs/state";
import { REGION_DOWN_MESSAGE } from "../lib/outages";

const BOOTSTRAP = fileURLToPath(new URL("./bootstrap.cjs", import.meta.url));

export interface FunctionConfig {
  name: string;
  arn: string;
  region: string;
  accountId: string;
  handler: string;
  runtime: string;
  roleArn: string;
  timeoutSeconds: number;
  memorySizeMb: number;
  environment: Record<string, string>;
  reservedConcurrency?: number;
  logGroupName: string;
  /** The deployment package as Terraform points at it. */
  zipPath: string;
  sourceCodeHash?: string;
}

export interface LambdaError {
  errorType: string;
  errorMessage: string;
  trace?: string[];
}

export type InvokeResult =
  | { ok: true; requestId: string; payload: string; durationMs: number }
  | { ok: false; requestId: string; error: LambdaError; durationMs: number };

export class LambdaServiceError extends Error {
  constructor(
    readonly code: "ResourceNotFoundException" | "TooManyRequestsException" | "InvalidParameterValueException" | "ServiceException",
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
  }
}

interface Container {
  worker: Worker;
  busy: boolean;
  ready: Promise<void>;
}

/** One statement of a function's resource-based policy (aws_lambda_permission). */
export interface PermissionStatement {
  sid: string;
  action: string;
  principal: string;
  sourceArn?: string;
  sourceAccount?: string;
}

interface FunctionState {
  config: FunctionConfig;
  permissions: PermissionStatement[];
  codeDir: string;
  containers: Set<Container>;
  log: Writable;
}

export interface LambdaServiceOptions {
  /** Where deployment packages are unpacked. */
  dataDir: string;
  /** Function output goes to the function's log group, in the function's account. */
  logs: (accountId: string) => LogGroups;
  /** Environment every function gets on top of its own: emulator endpoints, credentials. */
  platformEnvironment: (fn: FunctionConfig) => Record<string, string>;
  /**
   * External origins (`https://api.nasa.gov`) and the loopback servers standing in for them:
   * function environment values naming such an origin are pointed at the stand-in, because
   * nothing in the local cloud may reach beyond loopback.
   */
  upstreams?: Record<string, string>;
  /** While the function's region is down (an outage drill), every invocation is refused with 503. */
  regionDown?: () => boolean;
  /** The local cloud's clock state (local/lib/clock.ts): the functions' `Date` reads it. */
  clock?: SharedArrayBuffer;
}

/** Rewrites values that start with a mapped origin to the stand-in's origin. */
export function pointAtStandIns(environment: Record<string, string>, upstreams: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(environment).map(([name, value]) => {
      const origin = Object.keys(upstreams).find((o) => value === o || value.startsWith(`${o}/`));
      return [name, origin ? upstreams[origin] + value.slice(origin.length) : value];
    }),
  );
}

export class LambdaService {
  private readonly functions = new Map<string, FunctionState>();

  constructor(private readonly options: LambdaServiceOptions) {}

  createFunction(config: FunctionConfig): void {
    if (this.functions.has(config.name)) {
      throw new LambdaServiceError("InvalidParameterValueException", `Function already exist: ${config.name}`, 409);
    }
    const codeDir = this.unpack(config.zipPath);
    this.functions.set(config.name, { config, codeDir, permissions: [], containers: new Set(), log: this.options.logs(config.accountId).stream(config.logGroupName) });
  }

  getFunction(name: string): FunctionConfig | undefined {
    return this.functions.get(this.nameOf(name))?.config;
  }

  listFunctions(): FunctionConfig[] {
    return [...this.functions.values()].map((f) => f.config);
  }

  addPermission(functionName: string, statement: PermissionStatement): void {
    const fn = this.require(functionName);
    if (fn.permissions.some((p) => p.sid === statement.sid)) {
      throw new LambdaServiceError("InvalidParameterValueException", `The statement id (${statement.sid}) provided already exists.`, 409);
    }
    fn.permissions.push(statement);
  }

  /** The function's resource-based policy statements (aws_lambda_permission). */
  permissionsOf(name: string): PermissionStatement[] {
    return [...this.require(name).permissions];
  }

  /**
   * Whether the function's resource policy lets `principal` (a service) invoke it from
   * `sourceArn`; source ARNs match with `*` and `?` as ArnLike does.
   */
  permits(functionNameOrArn: string, principal: string, sourceArn: string): { allowed: true } | { allowed: false; reason: string } {
    const fn = this.functions.get(this.nameOf(functionNameOrArn));
    if (!fn) return { allowed: false, reason: `function ${functionNameOrArn} does not exist` };
    const found = fn.permissions.find(
      (p) =>
        (p.action === "lambda:InvokeFunction" || p.action === "lambda:*") &&
        p.principal === principal &&
        (p.sourceArn === undefined || arnLike(p.sourceArn, sourceArn)) &&
        (p.sourceAccount === undefined || sourceArn.split(":")[4] === p.sourceAccount),
    );
    return found ? { allowed: true } : { allowed: false, reason: `no permission on ${fn.config.name} lets ${principal} invoke it from ${sourceArn}` };
  }

  /** As UpdateFunctionConfiguration: new environment, and warm environments are retired. */
  async updateEnvironment(name: string, environment: Record<string, string>): Promise<FunctionConfig> {
    const fn = this.require(name);
    fn.config = { ...fn.config, environment: { ...environment } };
    await this.retire(fn);
    return fn.config;
  }

  async invoke(name: string, event: unknown, context: { identity?: unknown; clientContext?: unknown } = {}): Promise<InvokeResult> {
    const fn = this.require(name);
    if (this.options.regionDown?.()) throw new LambdaServiceError("ServiceException", REGION_DOWN_MESSAGE, 503);
    const requestId = randomUUID();
    const container = await this.acquire(fn);
    const started = performance.now();
    // A real-time limit on the work, whatever the local clock does.
    const deadline = Date.now() + fn.config.timeoutSeconds * 1000;
    fn.log.write(`START RequestId: ${requestId} Version: $LATEST\n`);
    const finish = (result: InvokeResult): InvokeResult => {
      const ms = result.durationMs.toFixed(2);
      fn.log.write(`END RequestId: ${requestId}\nREPORT RequestId: ${requestId}\tDuration: ${ms} ms\tMemory Size: ${fn.config.memorySizeMb} MB\n`);
      return result;
    };
    return new Promise<InvokeResult>((resolve) => {
      const timer = setTimeout(() => {
        cleanup();
        // A timed-out environment is not reused: Lambda restarts it.
        this.discard(fn, container);
        const seconds = fn.config.timeoutSeconds.toFixed(2);
        resolve(
          finish({
            ok: false,
            requestId,
            durationMs: performance.now() - started,
            error: { errorType: "Sandbox.Timedout", errorMessage: `RequestId: ${requestId} Error: Task timed out after ${seconds} seconds` },
          }),
        );
      }, fn.config.timeoutSeconds * 1000);
      const onMessage = (message: { requestId?: string; payload?: string; error?: LambdaError }) => {
        if (message.requestId !== requestId) return;
        cleanup();
        container.busy = false;
        const durationMs = performance.now() - started;
        if (message.error) {
          fn.log.write(`${JSON.stringify({ level: "ERROR", requestId, ...message.error })}\n`);
          resolve(finish({ ok: false, requestId, durationMs, error: message.error }));
        } else resolve(finish({ ok: true, requestId, durationMs, payload: message.payload ?? "null" }));
      };
      const onExit = (code: number) => {
        cleanup();
        this.discard(fn, container);
        const outOfMemory = code !== 0;
        resolve(
          finish({
            ok: false,
            requestId,
            durationMs: performance.now() - started,
            error: outOfMemory
              ? { errorType: "Runtime.OutOfMemory", errorMessage: `RequestId: ${requestId} Error: Runtime exited with error: signal: killed` }
              : { errorType: "Runtime.ExitError", errorMessage: `RequestId: ${requestId} Error: Runtime exited without providing a reason` },
          }),
        );
      };
      const onError = (error: Error) => {
        fn.log.write(`${JSON.stringify({ level: "FATAL", requestId, message: error.message })}\n`);
      };
      const cleanup = () => {
        clearTimeout(timer);
        container.worker.off("message", onMessage);
        container.worker.off("exit", onExit);
        container.worker.off("error", onError);
      };
      container.worker.on("message", onMessage);
      container.worker.on("exit", onExit);
      container.worker.on("error", onError);
      container.worker.postMessage({
        requestId,
        event,
        context: {
          functionName: fn.config.name,
          functionVersion: "$LATEST",
          invokedFunctionArn: fn.config.arn,
          memoryLimitInMB: String(fn.config.memorySizeMb),
          logGroupName: fn.config.logGroupName,
          logStreamName: `local/[$LATEST]${requestId.replace(/-/g, "")}`,
          identity: context.identity,
          clientContext: context.clientContext,
          deadline,
        },
      });
    });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.functions.values()].map((fn) => this.retire(fn)));
  }

  private nameOf(nameOrArn: string): string {
    return nameOrArn.startsWith("arn:") ? nameOrArn.split(":")[6] : nameOrArn;
  }

  private require(name: string): FunctionState {
    const fn = this.functions.get(this.nameOf(name));
    if (!fn) throw new LambdaServiceError("ResourceNotFoundException", `Function not found: ${name}`, 404);
    return fn;
  }

  private async acquire(fn: FunctionState): Promise<Container> {
    for (const container of fn.containers) {
      if (!container.busy) {
        container.busy = true;
        await container.ready;
        return container;
      }
    }
    const limit = fn.config.reservedConcurrency;
    if (limit !== undefined && limit >= 0 && fn.containers.size >= limit) {
      throw new LambdaServiceError("TooManyRequestsException", "Rate Exceeded.", 429);
    }
    const container = this.start(fn);
    container.busy = true;
    await container.ready;
    return container;
  }

  private start(fn: FunctionState): Container {
    const env = {
      ...this.options.platformEnvironment(fn.config),
      ...pointAtStandIns(fn.config.environment, this.options.upstreams ?? {}),
      AWS_REGION: fn.config.region,
      AWS_DEFAULT_REGION: fn.config.region,
      AWS_LAMBDA_FUNCTION_NAME: fn.config.name,
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.config.memorySizeMb),
      AWS_LAMBDA_LOG_GROUP_NAME: fn.config.logGroupName,
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.config.runtime}`,
      LAMBDA_TASK_ROOT: fn.codeDir,
      _HANDLER: fn.config.handler,
      TZ: "UTC",
    };
    const worker = new Worker(BOOTSTRAP, {
      workerData: { codeDir: fn.codeDir, handler: fn.config.handler, clock: this.options.clock },
      env,
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: fn.config.memorySizeMb },
    });
    // Written, not piped: many containers share the function's log stream.
    worker.stdout.on("data", (chunk: Buffer) => fn.log.write(chunk));
    worker.stderr.on("data", (chunk: Buffer) => fn.log.write(chunk));
    worker.unref();
    const ready = new Promise<void>((resolve, reject) => {
      const onReady = (message: { ready?: boolean }) => {
        if (!message.ready) return;
        worker.off("message", onReady);
        resolve();
      };
      worker.on("message", onReady);
      worker.once("error", reject);
    });
    const container: Container = { worker, busy: false, ready };
    fn.containers.add(container);
    worker.once("exit", () => fn.containers.delete(container));
    return container;
  }

  private discard(fn: FunctionState, container: Container) {
    fn.containers.delete(container);
    void container.worker.terminate();
  }

  private async retire(fn: FunctionState) {
    const containers = [...fn.containers];
    fn.containers.clear();
    await Promise.all(containers.map((c) => c.worker.terminate()));
  }

  /** Unpacks a deployment package once per content hash (kept across restarts). */
  private unpack(zipPath: string): string {
    const bytes = readFileSync(zipPath);
    const hash = createHash("sha256").update(bytes).digest("hex");
    const dir = join(this.options.dataDir, "lambda-code", hash);
    if (existsSync(join(dir, ".complete"))) return dir;
    const staging = `${dir}.${process.pid}.tmp`;
    for (const [name, content] of Object.entries(unzipSync(bytes))) {
      if (name.endsWith("/")) continue;
      const target = join(staging, name);
      if (!target.startsWith(staging)) throw new LambdaServiceError("InvalidParameterValueException", `Unzipped path escapes the package: ${name}`, 400);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, content);
    }
    writeFileSync(join(staging, ".complete"), "");
    mkdirSync(dirname(dir), { recursive: true });
    if (!existsSync(dir)) renameSync(staging, dir);
    return dir;
  }
}

function arnLike(pattern: string, value: string): boolean {
  const regex = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${regex}$`).test(value);
}
