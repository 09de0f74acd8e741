// The Route 53 API on its own loopback port, answering from the local cloud's Route 53 state and
// health checkers (which exist once the records of a deployed stack need them).
import { serveHandler, type RunningHandlerServer } from "../lib/http-handler";
import { route53Api } from "./api";
import { Answerer } from "./answer";
import { regionOfAddress } from "./client-regions";
import type { HealthCheckers } from "./health-checker";
import type { Route53State } from "./state";

export interface Route53ApiServerOptions {
  state: Route53State;
  /** The running health checkers, if any; without them every check counts as new, hence healthy. */
  healthCheckers(): HealthCheckers | undefined;
  port?: number;
}

export function startRoute53Api(options: Route53ApiServerOptions): Promise<RunningHandlerServer> {
  const answerer = new Answerer({ state: options.state, isHealthy: (id) => options.healthCheckers()?.isHealthy(id) ?? true });
  const handler = route53Api({ state: options.state, answerer, healthStatus: (id) => options.healthCheckers()?.statusOf(id), regionOfAddress });
  return serveHandler(handler, options.port);
}
