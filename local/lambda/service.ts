// Lambda for the local cloud: functions from their Terraform configuration and zip, run in
// worker threads. A worker is an execution environment: its own process.env (the function's
// environment plus what Lambda sets), the bundle loaded once, one invocation at a time, reused
// while warm; the timeout and the memory size are enforced as Lambda enforces them. Its output
// goes to the function's log group in the function's log format and levels (function-log.ts),
// each invocation carries an X-Ray trace header when tracing is active, and every invocation
// publishes Lambda's metrics (Invocations, Errors, Throttles, Duration, ConcurrentExecutions).
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { unzipSync } from "fflate";
import type { LogGroups } from "../logs/state";
import { REGION_DOWN_MESSAGE } from "../lib/outages";
import type { Clock } from "../lib/clock";
import { FunctionLog, type LogLevel } from "./function-log";

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
  /** logging_config: JSON (levels honoured) or Text. */
  logFormat: "JSON" | "Text";
  applicationLogLevel?: LogLevel;
  systemLogLevel?: LogLevel;
  /** tracing_config: Active samples every invocation into X-Ray. */
  tracing: "Active" | "PassThrough";
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
  /** Its function's configuration changed: it serves its invocation in flight, then goes. */
  retired?: boolean;
  ready: Promise<void>;
  /** Resolves once the invocation's output on stdout and stderr has arrived. */
  outputOf(requestId: string): Promise<void>;
}

/** How long an answer waits for its output (a runtime that never writes the marker has crashed). */
const OUTPUT_WAIT_MS = 2000;

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
  log: FunctionLog;
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
  /** Publishes one of the function's metrics (AWS/Lambda, dimension FunctionName) in its account. */
  publishMetric?: (fn: FunctionConfig, metricName: string, value: number, unit: string) => void;
  /** Where the X-Ray SDK inside a function sends its segments (`127.0.0.1:<port>`), when tracing is active. */
  xrayDaemonAddress?: () => string | undefined;
  /** The local cloud's clock (local/lib/clock.ts): its shared state is what the functions' `Date` reads. */
  clock?: Pick<Clock, "now" | "shared">;
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
    const stream = this.options.logs(config.accountId).stream(config.logGroupName);
    const state: FunctionState = { config, codeDir, permissions: [], containers: new Set(), log: new FunctionLog(stream, () => state.config) };
    this.functions.set(config.name, state);
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

  /**
   * As UpdateFunctionConfiguration: new environment; idle environments are retired at once, busy
   * ones once their invocation has finished (an update does not cut an invocation short).
   */
  async updateEnvironment(name: string, environment: Record<string, string>): Promise<FunctionConfig> {
    const fn = this.require(name);
    fn.config = { ...fn.config, environment: { ...environment } };
    for (const container of fn.containers) if (container.busy) container.retired = true;
    await this.retire(fn, (c) => !c.busy);
    return fn.config;
  }

  async invoke(name: string, event: unknown, context: { identity?: unknown; clientContext?: unknown } = {}): Promise<InvokeResult> {
    const fn = this.require(name);
    if (this.options.regionDown?.()) throw new LambdaServiceError("ServiceException", REGION_DOWN_MESSAGE, 503);
    const requestId = randomUUID();
    const metric = (metricName: string, value: number, unit = "Count") => this.options.publishMetric?.(fn.config, metricName, value, unit);
    let container: Container;
    try {
      container = await this.acquire(fn);
    } catch (error) {
      if (error instanceof LambdaServiceError && error.code === "TooManyRequestsException") metric("Throttles", 1);
      throw error;
    }
    metric("Invocations", 1);
    metric("ConcurrentExecutions", [...fn.containers].filter((c) => c.busy).length);
    const started = performance.now();
    // A real-time limit on the work, whatever the local clock does.
    const deadline = Date.now() + fn.config.timeoutSeconds * 1000;
    fn.log.start(requestId);
    const finish = (result: InvokeResult): InvokeResult => {
      fn.log.report(requestId, result.durationMs, result.ok ? "success" : result.error.errorType === "Sandbox.Timedout" ? "timeout" : "error");
      metric("Duration", result.durationMs, "Milliseconds");
      metric("Errors", result.ok ? 0 : 1);
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
        const durationMs = performance.now() - started;
        const answered = () => {
          container.busy = false;
          if (container.retired) this.discard(fn, container);
          if (message.error) {
            fn.log.invokeError(requestId, message.error);
            resolve(finish({ ok: false, requestId, durationMs, error: message.error }));
          } else resolve(finish({ ok: true, requestId, durationMs, payload: message.payload ?? "null" }));
        };
        void Promise.race([container.outputOf(requestId), new Promise((r) => setTimeout(r, OUTPUT_WAIT_MS).unref())]).then(answered);
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
      const onError = (error: Error) => fn.log.runtimeFailure(requestId, error.message);
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
        // Lambda hands every invocation a trace header; only active tracing samples it.
        traceId: traceHeader(this.options.clock?.now() ?? Date.now(), fn.config.tracing === "Active"),
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
      if (!container.busy && !container.retired) {
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
    const xrayDaemon = fn.config.tracing === "Active" ? this.options.xrayDaemonAddress?.() : undefined;
    const env = {
      ...this.options.platformEnvironment(fn.config),
      ...pointAtStandIns(fn.config.environment, this.options.upstreams ?? {}),
      // What Lambda sets for its logging controls and active tracing.
      AWS_LAMBDA_LOG_FORMAT: fn.config.logFormat,
      ...(fn.config.logFormat === "JSON" && fn.config.applicationLogLevel ? { AWS_LAMBDA_LOG_LEVEL: fn.config.applicationLogLevel } : {}),
      ...(xrayDaemon
        ? { AWS_XRAY_DAEMON_ADDRESS: xrayDaemon, _AWS_XRAY_DAEMON_ADDRESS: xrayDaemon.split(":")[0], _AWS_XRAY_DAEMON_PORT: xrayDaemon.split(":")[1], AWS_XRAY_CONTEXT_MISSING: "LOG_ERROR" }
        : {}),
      AWS_REGION: fn.config.region,
      AWS_DEFAULT_REGION: fn.config.region,
      AWS_LAMBDA_FUNCTION_NAME: fn.config.name,
      AWS_LAMBDA_FUNCTION_VERSION: "$LATEST",
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.config.memorySizeMb),
      AWS_LAMBDA_INITIALIZATION_TYPE: "on-demand",
      // The runtime is nodejs22.x whatever Node runs the local cloud: the SDK's notice that it
      // will need Node 22 is about the host, not the function.
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      AWS_LAMBDA_LOG_GROUP_NAME: fn.config.logGroupName,
      AWS_EXECUTION_ENV: `AWS_Lambda_${fn.config.runtime}`,
      LAMBDA_TASK_ROOT: fn.codeDir,
      _HANDLER: fn.config.handler,
      TZ: "UTC",
    };
    const worker = new Worker(BOOTSTRAP, {
      workerData: { codeDir: fn.codeDir, handler: fn.config.handler, clock: this.options.clock?.shared },
      env,
      // Lambda starts plain Node: none of the host's flags (tsx's loader when the local cloud runs
      // through tsx, a test runner's) reach the function, so a bundle that needs them fails here
      // as it would in AWS, and its cold start does not pay for a TypeScript loader.
      execArgv: [],
      stdout: true,
      stderr: true,
      resourceLimits: { maxOldGenerationSizeMb: fn.config.memorySizeMb },
    });
    // Written, not piped: many containers share the function's log stream.
    const ended = new Map<string, { streams: number; done: () => void; promise: Promise<void> }>();
    const waiter = (requestId: string) => {
      let entry = ended.get(requestId);
      if (!entry) {
        let done!: () => void;
        const promise = new Promise<void>((resolve) => (done = resolve));
        ended.set(requestId, (entry = { streams: 0, done, promise }));
      }
      return entry;
    };
    const streamEnded = (requestId: string) => {
      const entry = waiter(requestId);
      if (++entry.streams === 2) entry.done();
    };
    const stdout = fn.log.output(streamEnded);
    const stderr = fn.log.output(streamEnded);
    worker.stdout.on("data", (chunk: Buffer) => stdout.write(chunk));
    worker.stderr.on("data", (chunk: Buffer) => stderr.write(chunk));
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
    const container: Container = { worker, busy: false, ready, outputOf: (requestId) => waiter(requestId).promise.then(() => void ended.delete(requestId)) };
    fn.containers.add(container);
    worker.once("exit", () => fn.containers.delete(container));
    return container;
  }

  private discard(fn: FunctionState, container: Container) {
    fn.containers.delete(container);
    void container.worker.terminate();
  }

  private async retire(fn: FunctionState, which: (container: Container) => boolean = () => true) {
    const containers = [...fn.containers].filter(which);
    for (const container of containers) fn.containers.delete(container);
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

/** `Root=1-<epoch seconds, hex>-<96 random bits>;Parent=<64 random bits>;Sampled=<0|1>`: the header Lambda hands an invocation. */
function traceHeader(now: number, sampled: boolean): string {
  const epochSeconds = Math.floor(now / 1000).toString(16);
  return `Root=1-${epochSeconds}-${randomBytes(12).toString("hex")};Parent=${randomBytes(8).toString("hex")};Sampled=${sampled ? 1 : 0}`;
}

function arnLike(pattern: string, value: string): boolean {
  const regex = pattern
    .split("")
    .map((c) => (c === "*" ? ".*" : c === "?" ? "." : c.replace(/[.+^${}()|[\]\\]/g, "\\$&")))
    .join("");
  return new RegExp(`^${regex}$`).test(value);
}
