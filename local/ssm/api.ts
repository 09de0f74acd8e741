// The SSM operations the platform's Lambdas and operators use, behind the edge (awsJson1.1,
// `X-Amz-Target: AmazonSSM.<Operation>`), on parameter ARNs of the caller's account.
import { jsonText, jsonProtocolService } from "../lib/json-protocol";
import type { EdgeService } from "../edge/types";
import type { SsmState } from "./state";

export function ssmApi(stateOf: (accountId: string) => SsmState): EdgeService {
  return jsonProtocolService<SsmState>({
    targetPrefix: "AmazonSSM",
    serviceName: "SSM",
    iamPrefix: "ssm",
    version: "1.1",
    stateFor: (call) => stateOf(call.caller!.accountId),
    operations: {
      GetParameter: {
        resources: (state, region, input) => [state.arn(region, jsonText(input.Name))],
        run: (state, region, input) => ({ Parameter: state.getParameter(region, jsonText(input.Name), input.WithDecryption === true) }),
      },
      PutParameter: {
        resources: (state, region, input) => [state.arn(region, jsonText(input.Name))],
        run: (state, region, input) => ({
          Version: state.putParameter(region, { name: jsonText(input.Name), type: jsonText(input.Type) || "String", value: jsonText(input.Value), overwrite: input.Overwrite === true }),
          Tier: "Standard",
        }),
      },
    },
  });
}
