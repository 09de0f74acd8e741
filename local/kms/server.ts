// The KMS operations (awsJson1.1, `X-Amz-Target: TrentService.<Operation>`) over KmsState.
import { AwsServiceError } from "../lib/aws-wire";
import { jsonText as text, startJsonProtocolServer, type RunningJsonServer } from "../lib/json-protocol";
import type { KmsState } from "./state";

type Handler = (state: KmsState, region: string, input: Record<string, unknown>) => unknown;

const blob = (value: unknown, field: string): Buffer => {
  if (typeof value !== "string") throw new AwsServiceError("ValidationException", `${field} is required (base64)`);
  return Buffer.from(value, "base64");
};

const OPERATIONS: Record<string, Handler> = {
  CreateKey: (state, region, input) => ({
    KeyMetadata: state.createKey(region, {
      keySpec: text(input.KeySpec ?? input.CustomerMasterKeySpec) || undefined,
      keyUsage: text(input.KeyUsage) || undefined,
      description: text(input.Description),
    }),
  }),
  CreateAlias: (state, region, input) => {
    state.createAlias(region, text(input.AliasName), text(input.TargetKeyId));
    return {};
  },
  ListAliases: (state, region) => ({
    Aliases: state.listAliases(region).map(({ AliasName, AliasArn, TargetKeyId }) => ({ AliasName, AliasArn, TargetKeyId })),
    Truncated: false,
  }),
  DescribeKey: (state, region, input) => ({ KeyMetadata: state.describeKey(region, text(input.KeyId)) }),
  GetPublicKey: (state, region, input) => {
    const result = state.getPublicKey(region, text(input.KeyId));
    return { ...result, PublicKey: result.PublicKey.toString("base64") };
  },
  Sign: (state, region, input) => {
    const result = state.sign(region, {
      keyId: text(input.KeyId),
      message: blob(input.Message, "Message"),
      messageType: text(input.MessageType) || undefined,
      signingAlgorithm: text(input.SigningAlgorithm),
    });
    return { ...result, Signature: result.Signature.toString("base64") };
  },
  Verify: (state, region, input) =>
    state.verify(region, {
      keyId: text(input.KeyId),
      message: blob(input.Message, "Message"),
      messageType: text(input.MessageType) || undefined,
      signature: blob(input.Signature, "Signature"),
      signingAlgorithm: text(input.SigningAlgorithm),
    }),
};

export function startKmsServer(options: { state: KmsState; port?: number }): Promise<RunningJsonServer> {
  const operations = Object.fromEntries(
    Object.entries(OPERATIONS).map(([name, operation]) => [name, (region: string, input: Record<string, unknown>) => operation(options.state, region, input)]),
  );
  return startJsonProtocolServer({ targetPrefix: "TrentService", serviceName: "KMS", operations, port: options.port });
}
