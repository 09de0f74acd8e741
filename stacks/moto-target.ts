// PLATFORM_TARGET=moto: the offline target (local state, no deploy role) for an apply on moto
// (https://github.com/getmoto/moto), an independent AWS emulator, minus what moto cannot create.
// Every difference between moto and AWS that an apply of this platform runs into is listed here,
// once, with the reason; `npm run apply-check` fails on any difference not listed here, and on an
// entry that no longer matches anything (so the list stays true when moto changes).
import type { IConstruct } from "constructs";
import { TerraformResource, type IAspect } from "cdktf";

export interface MotoGap {
  id: string;
  resourceType: string;
  /** Top-level argument of the resource. */
  attribute: string;
  /**
   * `left-out`: an apply with it cannot finish on moto, so the moto target synthesizes the
   * resources without it. `not-stored`: moto accepts the apply but does not keep the value, so
   * the plan after the apply wants to set it again; the apply-check accepts exactly that change.
   * `checked`: moto is more lenient than AWS here; the apply-check checks it itself.
   * `wrong-value`: moto answers a value AWS would not; nothing is compared with it.
   */
  handling: "left-out" | "not-stored" | "checked" | "wrong-value";
  reason: string;
}

/** Measured with moto 5.2.1 (moto_server) and hashicorp/aws 5.100.0. */
export const MOTO_GAPS: readonly MotoGap[] = [
  {
    id: "dynamodb-global-table-replicas",
    resourceType: "aws_dynamodb_table",
    attribute: "replica",
    handling: "left-out",
    reason:
      "moto's DynamoDB has no global tables (version 2019.11.21): UpdateTable accepts ReplicaUpdates and ignores them, DescribeTable never lists Replicas, so the provider waits for a replica that never becomes ACTIVE (about 9 minutes, then the plugin stops answering). The tables themselves, their streams, PITR and encryption are applied.",
  },
  {
    id: "lambda-logging-config",
    resourceType: "aws_lambda_function",
    attribute: "logging_config",
    handling: "not-stored",
    reason: "moto's Lambda ignores LoggingConfig: CreateFunction accepts it and GetFunction never returns it.",
  },
  {
    id: "apigateway-authorizer-identity-validation-expression",
    resourceType: "aws_api_gateway_authorizer",
    attribute: "identity_validation_expression",
    handling: "not-stored",
    reason:
      "moto's CreateAuthorizer drops identityValidationExpression: it hands the value on under a misspelled keyword (identiy_validation_expression) that its Authorizer model never reads.",
  },
  {
    id: "iam-saml-provider-tags",
    resourceType: "aws_iam_saml_provider",
    attribute: "tags_all",
    handling: "not-stored",
    reason:
      "moto's CreateSAMLProvider ignores Tags and TagSAMLProvider is not implemented (an apply that adds the tags retries it until the provider's timeout), so the provider's default tags never reach the SAML provider.",
  },
  {
    id: "kinesis-stream-tags",
    resourceType: "aws_kinesis_stream",
    attribute: "tags_all",
    handling: "not-stored",
    reason: "moto's CreateStream ignores its Tags parameter, so the provider's default tags are missing from the stream.",
  },
  {
    id: "apigateway-regional-zone-id",
    resourceType: "aws_api_gateway_domain_name",
    attribute: "regional_zone_id",
    handling: "wrong-value",
    reason:
      "moto gives every regional custom domain the hosted zone id Z2FDTNDATAQYW2 (CloudFront's); API Gateway's regional endpoints each have their own (Z1UJRXOUMOOFQ8 in us-east-1, Z2OJLYMUO9EFXC in us-west-2: AWS General Reference, Amazon API Gateway endpoints and quotas).",
  },
  {
    id: "acm-dns-validation",
    resourceType: "aws_acm_certificate",
    attribute: "domain_validation_options",
    handling: "checked",
    reason:
      "moto issues a DNS-validated certificate a fixed time after the request (MOTO_ACM_VALIDATION_WAIT) without looking for the validation record; AWS issues it only once the record resolves. The apply-check checks that the applied stack holds a Route 53 record for every validation option of every certificate.",
  },
];

/** Removes the `left-out` arguments from every resource of their type. */
export class LeaveOutMotoGaps implements IAspect {
  visit(node: IConstruct): void {
    if (!TerraformResource.isTerraformResource(node)) return;
    for (const gap of MOTO_GAPS) {
      if (gap.handling === "left-out" && node.terraformResourceType === gap.resourceType) node.addOverride(gap.attribute, undefined);
    }
  }
}
