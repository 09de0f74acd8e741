// The local cloud's control endpoint (`control.url` in endpoints.json): what an operator does to
// the emulation itself rather than to AWS, such as taking a whole region down for a drill.
//
//   GET    /regions                  -> {"regions": [{"region": "us-east-1", "down": false}, ...]}
//   PUT    /regions/<region>/outage  -> the region's API Gateway, Lambda and DynamoDB answer 503
//   DELETE /regions/<region>/outage  -> the region is back; queued global-table writes replicate
//   GET    /sns/deliveries[?region=] -> what SNS would have e-mailed or texted, oldest first
//   GET    /clock                    -> {"mode": "manual", "now": "2026-01-01T00:00:00.000Z", ...}
//   POST   /clock/advance?by=10s     -> manual clock: time moves on by 10 s, due work done first
//   POST   /clock/advance-to?at=<ISO 8601 instant>  -> the same, to an instant
import { parseDuration, type LocalClock } from "../lib/clock";
import { jsonResponse, serveHttp, type HttpRequest, type HttpResponse, type RunningHttpServer } from "../lib/http-serve";
import type { RegionOutages } from "../lib/outages";
import type { Delivery } from "../sns/state";

export type RunningControl = RunningHttpServer;

export interface ControlOptions {
  regions: () => string[];
  outages: RegionOutages;
  clock: LocalClock;
  deliveries: () => Delivery[];
  log: (line: string) => void;
  port?: number;
}

async function handle(options: ControlOptions, request: HttpRequest): Promise<HttpResponse> {
  const path = request.rawPath;
  if (path === "/clock" || path.startsWith("/clock/")) return clockRoute(options, request);
  const listing = () => ({ regions: options.regions().map((region) => ({ region, down: options.outages.isDown(region) })) });
  if (path === "/regions" && request.method === "GET") return jsonResponse(200, listing());
  if (path === "/sns/deliveries" && request.method === "GET") {
    const region = new URLSearchParams(request.rawQuery).get("region");
    const all = options.deliveries().filter((d) => !region || d.region === region);
    return jsonResponse(200, all.sort((a, b) => a.deliveredAt.localeCompare(b.deliveredAt)));
  }
  const outage = /^\/regions\/([a-z0-9-]+)\/outage$/.exec(path);
  if (!outage) return jsonResponse(404, { code: "NotFound", message: `no control route ${request.method} ${path}: try GET /regions, PUT or DELETE /regions/<region>/outage, GET /sns/deliveries, GET /clock, POST /clock/advance?by=<duration>, POST /clock/advance-to?at=<instant>` });
  const region = outage[1];
  if (!options.regions().includes(region)) {
    return jsonResponse(404, { code: "UnknownRegion", message: `region ${region} is not in this local cloud (regions: ${options.regions().join(", ")})` });
  }
  if (request.method !== "PUT" && request.method !== "DELETE") return jsonResponse(405, { code: "MethodNotAllowed", message: "PUT starts an outage, DELETE ends it" });
  const down = request.method === "PUT";
  options.outages.set(region, down);
  options.log(`control: ${region} is ${down ? "down (its API Gateway, Lambda and DynamoDB answer 503)" : "back up"}`);
  return jsonResponse(200, listing());
}

function clockState(clock: LocalClock) {
  const now = clock.now();
  return { mode: clock.mode, now: new Date(now).toISOString(), epochMillis: now, ...(clock.mode === "scaled" ? { timeScale: clock.scale } : {}) };
}

async function clockRoute(options: ControlOptions, request: HttpRequest): Promise<HttpResponse> {
  const { clock } = options;
  const path = request.rawPath;
  if (path === "/clock") {
    return request.method === "GET" ? jsonResponse(200, clockState(clock)) : jsonResponse(405, { code: "MethodNotAllowed", message: "GET /clock reads the clock" });
  }
  if (path !== "/clock/advance" && path !== "/clock/advance-to") {
    return jsonResponse(404, { code: "NotFound", message: `no control route ${request.method} ${path}: try GET /clock, POST /clock/advance?by=<duration>, POST /clock/advance-to?at=<instant>` });
  }
  if (request.method !== "POST") return jsonResponse(405, { code: "MethodNotAllowed", message: `POST ${path} moves the clock` });
  if (clock.mode !== "manual") {
    return jsonResponse(409, { code: "ClockNotManual", message: "this local cloud runs on a scaled real-time clock; start it with --clock manual to move time by hand" });
  }
  const query = new URLSearchParams(request.rawQuery);
  let target: number;
  if (path === "/clock/advance") {
    const by = query.get("by");
    if (by === null) return jsonResponse(400, { code: "MissingParameter", message: "say how far to move the clock: POST /clock/advance?by=10s (units ms, s, m, h, d)" });
    try {
      target = clock.now() + parseDuration(by);
    } catch (error) {
      return jsonResponse(400, { code: "InvalidParameter", message: (error as Error).message });
    }
  } else {
    const at = query.get("at");
    target = at === null ? NaN : Date.parse(at);
    if (at === null || !/^\d{4}-\d{2}-\d{2}T/.test(at) || !Number.isFinite(target)) {
      return jsonResponse(400, { code: "InvalidParameter", message: `at must be an ISO 8601 instant such as 2026-01-01T00:00:00Z, got ${JSON.stringify(at)}` });
    }
    if (target < clock.now()) {
      return jsonResponse(400, { code: "InvalidParameter", message: `time only moves forward: ${new Date(target).toISOString()} is before the clock's ${new Date(clock.now()).toISOString()}` });
    }
  }
  try {
    await clock.advanceTo(target);
  } catch (error) {
    if (error instanceof RangeError) return jsonResponse(400, { code: "InvalidParameter", message: error.message });
    throw error;
  }
  options.log(`control: clock moved to ${new Date(clock.now()).toISOString()}`);
  return jsonResponse(200, clockState(clock));
}

export function startControl(options: ControlOptions): Promise<RunningControl> {
  return serveHttp((request) => handle(options, request), {
    name: "control",
    port: options.port,
    maxBodyBytes: 64 * 1024,
    log: options.log,
    onError: (error) => jsonResponse(500, { code: "InternalError", message: (error as Error).message }),
  });
}
