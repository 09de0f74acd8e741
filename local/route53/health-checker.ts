// Route 53 health checkers for the local cloud: every endpoint health check of Route53State is
// polled as Route 53 polls it (type, Host header, path, search string, interval, failure
// threshold), the interval on the local cloud's clock (scaled, or moved by hand). Route 53 runs checkers in
// many places and calls an endpoint healthy when more than 18% of them do; here one checker decides.
//
// Rules followed (Route 53 Developer Guide, "How Amazon Route 53 determines whether a health check
// is healthy", and the API reference of HealthCheckConfig):
// - "Route 53 considers a new health check to be healthy until there's enough data to determine
//   the actual status": checks start healthy.
// - HTTP(S): a TCP connection within 4 s, then a 2xx/3xx status within 2 s; *_STR_MATCH: then the
//   body within 2 s more, with the search string entirely in its first 5,120 bytes.
// - HTTPS checks do not validate the certificate.
// - The status flips after `failureThreshold` consecutive results that disagree with it, both ways.
// - Host header: the FQDN for port 80 (HTTP*) or 443 (HTTPS*), otherwise `fqdn:port`.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Clock, Scheduled } from "../lib/clock";
import type { HealthCheckConfig, Route53State } from "./state";

export const SEARCH_WINDOW_BYTES = 5120;
/**
 * Route 53's time limits, on real time: the endpoints answer no faster when the local clock runs
 * faster (local/lib/clock.ts: deadlines on real work stay real).
 */
export const TIMEOUTS_MS = { connect: 4000, status: 2000, body: 2000 } as const;
const HTTP_TYPES = new Set(["HTTP", "HTTPS", "HTTP_STR_MATCH", "HTTPS_STR_MATCH"]);
const USER_AGENT = "Amazon-Route53-Health-Check-Service (local cloud)";

export interface HealthCheckersOptions {
  state: Route53State;
  /**
   * The URL (`http:` or `https:`) serving `fqdn:port` + `path` on this machine, e.g.
   * `http://127.0.0.1:4510/prod/healthcheck` for `abc123.execute-api.us-east-1.amazonaws.com:443`.
   * Undefined (or a throw) when the name does not resolve: the probe fails, as it would in AWS.
   */
  resolveTarget(fqdn: string, port: number, path: string): string | undefined;
  /** The local cloud's clock: request intervals run on it. */
  clock: Clock;
  /** Observations kept per check for status(). Default 20. */
  historyLength?: number;
  /** Called when a check changes status (after `failureThreshold` disagreeing results). */
  onChange?(change: { id: string; healthy: boolean; observation: Observation }): void;
  /** Called after every probe with the check's status (Route 53 publishes its metrics from it). */
  onObservation?(check: HealthCheckConfig, status: { healthy: boolean; observation: Observation }): void;
}

/** One checker's result, shaped after GetHealthCheckStatus's StatusReport. */
export interface Observation {
  checkedTime: string;
  ok: boolean;
  /** `Success: HTTP Status Code 200, OK`, `Failure: ...` */
  status: string;
}

export interface HealthCheckStatus {
  id: string;
  type: string;
  fqdn: string;
  port: number;
  resourcePath: string;
  healthy: boolean;
  /** False for types this emulation does not poll (TCP, CALCULATED, CLOUDWATCH_METRIC, ...): they keep the new-check status. */
  polled: boolean;
  /** Consecutive results that disagree with `healthy`; reaching `failureThreshold` flips it. */
  disagreeing: number;
  /** Newest first. */
  observations: Observation[];
}

interface Runner {
  status: HealthCheckStatus;
  timer?: Scheduled;
  /** The interval `timer` runs at (seconds). */
  intervalSeconds?: number;
  abort?: AbortController;
  probing?: Promise<void>;
}

export class HealthCheckers {
  private readonly runners = new Map<string, Runner>();
  private readonly historyLength: number;
  private running = false;

  constructor(private readonly options: HealthCheckersOptions) {
    this.historyLength = options.historyLength ?? 20;
  }

  /**
   * Polls every health check of the state, the first probe at once. Call again after the state
   * changed (a redeploy): new checks start, removed ones stop, changed ones apply at their next probe.
   */
  start(): void {
    this.running = true;
    const checks = this.options.state.healthChecks;
    for (const [id, runner] of this.runners) {
      if (!checks.has(id)) {
        this.halt(runner);
        this.runners.delete(id);
      }
    }
    for (const check of checks.values()) {
      const existing = this.runners.get(check.id);
      if (existing) {
        if (existing.timer && existing.intervalSeconds !== check.requestInterval) this.schedule(existing, check.requestInterval);
        continue;
      }
      const polled = HTTP_TYPES.has(check.type);
      const runner: Runner = {
        status: { id: check.id, type: check.type, fqdn: check.fqdn, port: check.port, resourcePath: check.resourcePath, healthy: true, polled, disagreeing: 0, observations: [] },
      };
      this.runners.set(check.id, runner);
      if (!polled) continue;
      void this.poll(runner);
      this.schedule(runner, check.requestInterval);
    }
  }

  /** A probe every interval of the local clock (on manual time, each one awaited before time moves on). */
  private schedule(runner: Runner, intervalSeconds: number) {
    runner.timer?.cancel();
    runner.intervalSeconds = intervalSeconds;
    runner.timer = this.options.clock.every(intervalSeconds * 1000, () => this.poll(runner));
  }

  /** Clears the timers and aborts the requests in flight; resolves when they have ended. */
  async stop(): Promise<void> {
    this.running = false;
    const probing = [...this.runners.values()].map((runner) => {
      this.halt(runner);
      return runner.probing;
    });
    await Promise.all(probing);
  }

  /** Unknown ids count as healthy: a check without data is healthy in Route 53. */
  isHealthy(id: string): boolean {
    return this.runners.get(id)?.status.healthy ?? true;
  }

  status(): HealthCheckStatus[] {
    return [...this.runners.values()].map((runner) => structuredClone(runner.status));
  }

  statusOf(id: string): HealthCheckStatus | undefined {
    const runner = this.runners.get(id);
    return runner && structuredClone(runner.status);
  }

  private halt(runner: Runner) {
    runner.timer?.cancel();
    runner.abort?.abort();
  }

  /**
   * One probe. On a fast scaled clock a probe can outlast its interval (its time limits are real):
   * the next one then starts at the first tick after it ended.
   */
  private poll(runner: Runner): Promise<void> | undefined {
    const check = this.options.state.healthChecks.get(runner.status.id);
    if (!this.running || !check || runner.probing) return runner.probing;
    const abort = new AbortController();
    runner.abort = abort;
    runner.probing = probe(check, this.options.resolveTarget, sum(TIMEOUTS_MS), abort.signal, this.options.clock).then((observation) => {
      runner.probing = undefined;
      if (!abort.signal.aborted) this.record(runner, check, observation);
    });
    return runner.probing;
  }

  private record(runner: Runner, check: HealthCheckConfig, observation: Observation) {
    const status = runner.status;
    Object.assign(status, { type: check.type, fqdn: check.fqdn, port: check.port, resourcePath: check.resourcePath });
    status.observations.unshift(observation);
    status.observations.length = Math.min(status.observations.length, this.historyLength);
    if (observation.ok === status.healthy) {
      status.disagreeing = 0;
    } else if (++status.disagreeing >= check.failureThreshold) {
      status.healthy = observation.ok;
      status.disagreeing = 0;
      this.options.onChange?.({ id: check.id, healthy: status.healthy, observation });
    }
    this.options.onObservation?.(check, { healthy: status.healthy, observation });
  }
}

function sum(timeouts: Record<string, number>): number {
  return Object.values(timeouts).reduce((a, b) => a + b, 0);
}

/** The Host header Route 53 sends. */
export function hostHeader(check: Pick<HealthCheckConfig, "type" | "fqdn" | "port">): string {
  const defaultPort = check.type.startsWith("HTTPS") ? 443 : 80;
  return check.port === defaultPort ? check.fqdn : `${check.fqdn}:${check.port}`;
}

/** One request as a Route 53 checker makes it; never rejects. */
function probe(
  check: HealthCheckConfig,
  resolveTarget: HealthCheckersOptions["resolveTarget"],
  budgetMs: number,
  signal: AbortSignal,
  clock: Clock,
): Promise<Observation> {
  const observation = (ok: boolean, status: string): Observation => ({ checkedTime: new Date(clock.now()).toISOString(), ok, status });
  let url: URL;
  try {
    const target = resolveTarget(check.fqdn, check.port, check.resourcePath);
    if (target === undefined) return Promise.resolve(observation(false, `Failure: DNS resolution failed: ${check.fqdn} does not resolve in the local cloud`));
    url = new URL(target);
  } catch (error) {
    return Promise.resolve(observation(false, `Failure: DNS resolution failed: ${(error as Error).message}`));
  }

  return new Promise<Observation>((resolve) => {
    let request: ClientRequest | undefined;
    let phase: NodeJS.Timeout | undefined;
    const budget = setTimeout(() => settle(false, `Failure: no complete answer within ${budgetMs} ms`), budgetMs);
    let settled = false;
    const settle = (ok: boolean, status: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(phase);
      clearTimeout(budget);
      signal.removeEventListener("abort", onAbort);
      request?.destroy();
      resolve(observation(ok, status));
    };
    const within = (ms: number, failure: string) => {
      clearTimeout(phase);
      phase = setTimeout(() => settle(false, failure), ms);
    };
    const onAbort = () => settle(false, "Failure: the health checker stopped");
    signal.addEventListener("abort", onAbort);

    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    request = send(url, {
      method: "GET",
      agent: false,
      rejectUnauthorized: false,
      headers: { host: hostHeader(check), "user-agent": USER_AGENT },
    });
    within(TIMEOUTS_MS.connect, `Failure: Connection timed out: no TCP connection within ${TIMEOUTS_MS.connect} ms`);
    request.on("socket", (socket) =>
      socket.once("connect", () => within(TIMEOUTS_MS.status, `Failure: no HTTP status within ${TIMEOUTS_MS.status} ms of connecting`)),
    );
    request.on("error", (error) => settle(false, `Failure: ${error.message}`));
    request.on("response", (response) => onResponse(check, response, within, settle));
    request.end();
  });
}

function onResponse(
  check: HealthCheckConfig,
  response: IncomingMessage,
  within: (ms: number, failure: string) => void,
  settle: (ok: boolean, status: string) => void,
) {
  const code = response.statusCode ?? 0;
  const statusLine = `HTTP Status Code ${code}, ${response.statusMessage ?? ""}`.trim();
  if (code < 200 || code >= 400) return settle(false, `Failure: ${statusLine}`);
  if (!check.type.endsWith("_STR_MATCH")) return settle(true, `Success: ${statusLine}`);

  const wanted = Buffer.from(check.searchString ?? "");
  let window = Buffer.alloc(0);
  const verdict = () =>
    window.subarray(0, SEARCH_WINDOW_BYTES).includes(wanted)
      ? settle(true, `Success: ${statusLine}`)
      : settle(false, `Failure: ${statusLine}, but the search string "${check.searchString}" is not in the first ${SEARCH_WINDOW_BYTES} bytes of the body`);
  within(TIMEOUTS_MS.body, `Failure: ${statusLine}, but the body did not arrive within ${TIMEOUTS_MS.body} ms`);
  response.on("data", (chunk: Buffer) => {
    window = Buffer.concat([window, chunk]);
    if (window.length >= SEARCH_WINDOW_BYTES) verdict();
  });
  response.on("end", verdict);
  response.on("error", (error) => settle(false, `Failure: ${error.message}`));
}
