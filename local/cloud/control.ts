// The local cloud's control endpoint (`control.url` in endpoints.json): what an operator does to
// the emulation itself rather than to AWS, such as taking a whole region down for a drill.
//
//   GET    /regions                  -> {"regions": [{"region": "us-east-1", "down": false}, ...]}
//   PUT    /regions/<region>/outage  -> the region's API Gateway, Lambda and DynamoDB answer 503
//   DELETE /regions/<region>/outage  -> the region is back; queued global-table writes replicate
//   GET    /sns/deliveries[?region=] -> what SNS would have e-mailed or texted, oldest first
import { jsonResponse, serveHttp, type HttpRequest, type HttpResponse, type RunningHttpServer } from "../lib/http-serve";
import type { RegionOutages } from "../lib/outages";
import type { Delivery } from "../sns/state";

export type RunningControl = RunningHttpServer;

export interface ControlOptions {
  regions: () => string[];
  outages: RegionOutages;
  deliveries: () => Delivery[];
  log: (line: string) => void;
  port?: number;
}

function handle(options: ControlOptions, request: HttpRequest): HttpResponse {
  const path = request.rawPath;
  const listing = () => ({ regions: options.regions().map((region) => ({ region, down: options.outages.isDown(region) })) });
  if (path === "/regions" && request.method === "GET") return jsonResponse(200, listing());
  if (path === "/sns/deliveries" && request.method === "GET") {
    const region = new URLSearchParams(request.rawQuery).get("region");
    const all = options.deliveries().filter((d) => !region || d.region === region);
    return jsonResponse(200, all.sort((a, b) => a.deliveredAt.localeCompare(b.deliveredAt)));
  }
  const outage = /^\/regions\/([a-z0-9-]+)\/outage$/.exec(path);
  if (!outage) return jsonResponse(404, { code: "NotFound", message: `no control route ${request.method} ${path}: try GET /regions, PUT or DELETE /regions/<region>/outage, GET /sns/deliveries` });
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

export function startControl(options: ControlOptions): Promise<RunningControl> {
  return serveHttp((request) => handle(options, request), {
    name: "control",
    port: options.port,
    maxBodyBytes: 64 * 1024,
    log: options.log,
    onError: (error) => jsonResponse(500, { code: "InternalError", message: (error as Error).message }),
  });
}
