// The local cloud's control endpoint (`control.url` in endpoints.json): what an operator does to
// the emulation itself rather than to AWS, such as taking a whole region down for a drill.
//
//   GET    /regions                  -> {"regions": [{"region": "us-east-1", "down": false}, ...]}
//   PUT    /regions/<region>/outage  -> the region's API Gateway, Lambda and DynamoDB answer 503
//   DELETE /regions/<region>/outage  -> the region is back; queued global-table writes replicate
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { closeServer, listenOnLoopback, LOOPBACK } from "../lib/listen";
import type { RegionOutages } from "../lib/outages";

export interface RunningControl {
  url: string;
  stop(): Promise<void>;
}

export interface ControlOptions {
  regions: () => string[];
  outages: RegionOutages;
  log: (line: string) => void;
  port?: number;
}

function send(res: ServerResponse, status: number, body: unknown) {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) });
  res.end(text);
}

function handle(options: ControlOptions, req: IncomingMessage, res: ServerResponse) {
  const path = (req.url ?? "/").split("?")[0];
  const listing = () => ({ regions: options.regions().map((region) => ({ region, down: options.outages.isDown(region) })) });
  if (path === "/regions" && req.method === "GET") return send(res, 200, listing());
  const outage = /^\/regions\/([a-z0-9-]+)\/outage$/.exec(path);
  if (!outage) return send(res, 404, { code: "NotFound", message: `no control route ${req.method} ${path}: try GET /regions, PUT or DELETE /regions/<region>/outage` });
  const region = outage[1];
  if (!options.regions().includes(region)) {
    return send(res, 404, { code: "UnknownRegion", message: `region ${region} is not in this local cloud (regions: ${options.regions().join(", ")})` });
  }
  if (req.method !== "PUT" && req.method !== "DELETE") return send(res, 405, { code: "MethodNotAllowed", message: "PUT starts an outage, DELETE ends it" });
  const down = req.method === "PUT";
  options.outages.set(region, down);
  options.log(`control: ${region} is ${down ? "down (its API Gateway, Lambda and DynamoDB answer 503)" : "back up"}`);
  return send(res, 200, listing());
}

export async function startControl(options: ControlOptions): Promise<RunningControl> {
  const server = createServer((req, res) => {
    // Nothing a request carries is read but its method and path; drain the body.
    req.resume();
    req.on("end", () => handle(options, req, res));
  });
  const port = await listenOnLoopback(server, options.port);
  return { url: `http://${LOOPBACK}:${port}`, stop: () => closeServer(server) };
}
