// KMS's API behind the edge (awsJson1.1, `X-Amz-Target: TrentService.<Operation>`) over the
// caller's account's KmsState. A key's resource is its ARN, whichever way the request names it
// (key id, key ARN, alias name, alias ARN); the key policy must allow, as KMS requires, and
// `kms:ResourceAliases` carries the key's aliases for policies that name keys by alias.
import type { PolicyDocument } from "../iam/evaluator";
import { AwsServiceError } from "../lib/aws-wire";
import { jsonText as text, jsonProtocolService, type JsonOperation } from "../lib/json-protocol";
import type { EdgeService } from "../edge/types";
import type { KmsState } from "./state";

const blob = (value: unknown, field: string): Buffer => {
  if (typeof value !== "string") throw new AwsServiceError("ValidationException", `${field} is required (base64)`);
  return Buffer.from(value, "base64");
};

/** Operations on one key, named by `KeyId` (or `TargetKeyId` for CreateAlias). */
const onKey = (field = "KeyId"): Pick<JsonOperation<KmsState>, "resources" | "context"> => ({
  resources: (state, region, input) => [state.describeKey(region, text(input[field])).Arn],
  context: (state, resource) => ({ "kms:ResourceAliases": state.aliasesOf(resource) }),
});

const OPERATIONS: Record<string, JsonOperation<KmsState>> = {
  CreateKey: {
    run: (state, region, input) => ({
      KeyMetadata: state.createKey(region, {
        keySpec: text(input.KeySpec ?? input.CustomerMasterKeySpec) || undefined,
        keyUsage: text(input.KeyUsage) || undefined,
        description: text(input.Description),
        policy: text(input.Policy) || undefined,
      }),
    }),
  },
  CreateAlias: {
    ...onKey("TargetKeyId"),
    run: (state, region, input) => (state.createAlias(region, text(input.AliasName), text(input.TargetKeyId)), {}),
  },
  ListAliases: {
    run: (state, region) => ({
      Aliases: state.listAliases(region).map(({ AliasName, AliasArn, TargetKeyId }) => ({ AliasName, AliasArn, TargetKeyId })),
      Truncated: false,
    }),
  },
  DescribeKey: { ...onKey(), run: (state, region, input) => ({ KeyMetadata: state.describeKey(region, text(input.KeyId)) }) },
  GetKeyPolicy: { ...onKey(), run: (state, region, input) => ({ Policy: state.keyPolicy(region, text(input.KeyId)), PolicyName: "default" }) },
  GetPublicKey: {
    ...onKey(),
    run: (state, region, input) => {
      const result = state.getPublicKey(region, text(input.KeyId));
      return { ...result, PublicKey: result.PublicKey.toString("base64") };
    },
  },
  Sign: {
    ...onKey(),
    run: (state, region, input) => {
      const result = state.sign(region, {
        keyId: text(input.KeyId),
        message: blob(input.Message, "Message"),
        messageType: text(input.MessageType) || undefined,
        signingAlgorithm: text(input.SigningAlgorithm),
      });
      return { ...result, Signature: result.Signature.toString("base64") };
    },
  },
  Verify: {
    ...onKey(),
    run: (state, region, input) =>
      state.verify(region, {
        keyId: text(input.KeyId),
        message: blob(input.Message, "Message"),
        messageType: text(input.MessageType) || undefined,
        signature: blob(input.Signature, "Signature"),
        signingAlgorithm: text(input.SigningAlgorithm),
      }),
  },
};

export function kmsApi(stateOf: (accountId: string) => KmsState): EdgeService {
  return jsonProtocolService({
    targetPrefix: "TrentService",
    serviceName: "KMS",
    iamPrefix: "kms",
    version: "1.1",
    stateFor: (call) => stateOf(call.caller!.accountId),
    operations: OPERATIONS,
    resourcePolicy: (state, resource) => {
      const [, , , region, account] = resource.split(":");
      return { documents: [JSON.parse(state.keyPolicy(region, resource)) as PolicyDocument], required: true, account };
    },
  });
}
