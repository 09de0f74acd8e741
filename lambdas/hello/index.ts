// GET /helloworld: says which region answered, so a client can see latency routing and failover.
import { json, type ProxyResult } from "../lib/http";
import { regionOf } from "../lib/lambda-context";
import { instrumented, logger } from "../lib/observability";

export const handler = instrumented(async (_event: unknown, context): Promise<ProxyResult> => {
  const region = regionOf(context);
  logger.info(`Hello from ${region}`);
  // Public and read-only: any page may call it, as the seed's test client does from a file.
  return json(200, { message: `Hello from ${region}` }, { "access-control-allow-origin": "*" });
});
