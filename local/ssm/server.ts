// The SSM operations the platform's Lambdas use (awsJson1.1, `X-Amz-Target: AmazonSSM.<Operation>`).
import { jsonText, startJsonProtocolServer, type RunningJsonServer } from "../lib/json-protocol";
import type { CredentialLookup } from "../lib/sigv4";
import type { SsmState } from "./state";

export function startSsmServer(options: { state: SsmState; credentials?: CredentialLookup; port?: number }): Promise<RunningJsonServer> {
  const { state } = options;
  return startJsonProtocolServer({
    targetPrefix: "AmazonSSM",
    serviceName: "SSM",
    credentials: options.credentials,
    port: options.port,
    operations: {
      GetParameter: (region, input) => ({ Parameter: state.getParameter(region, jsonText(input.Name), input.WithDecryption === true) }),
      PutParameter: (region, input) => ({
        Version: state.putParameter(region, { name: jsonText(input.Name), type: jsonText(input.Type) || "String", value: jsonText(input.Value), overwrite: input.Overwrite === true }),
        Tier: "Standard",
      }),
    },
  });
}
