// GET /helloworld: says which region answered, so a client can see latency routing and failover.
import { json, type ProxyResult } from "../lib/http";
import { regionOf, type LambdaContext } from "../lib/lambda-context";

export async function handler(_event: unknown, context: LambdaContext): Promise<ProxyResult> {
  const region = regionOf(context);
  console.log(JSON.stringify({ message: `Hello from ${region}` }));
  // Public and read-only: any page may call it, as the seed's test client does from a file.
  return json(200, { message: `Hello from ${region}` }, { "access-control-allow-origin": "*" });
}
