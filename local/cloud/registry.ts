// Which emulated service creates each Terraform resource type. A type missing here is named at
// deploy time and stops the deploy: nothing is skipped silently.
import { acmResources } from "../acm/resources";
import { apiGatewayResources } from "../apigateway/resources";
import { cloudWatchResources } from "../cloudwatch/resources";
import { builtinResources } from "../deployer/builtin-resources";
import type { ResourceHandler } from "../deployer/types";
import { dynamodbResources } from "../dynamodb/resources";
import { eventsResources } from "../events/resources";
import { iamResources } from "../iam/resources";
import { kinesisResources } from "../kinesis/resources";
import { kmsResources } from "../kms/resources";
import { lambdaResources } from "../lambda/resources";
import { logsResources } from "../logs/resources";
import { organizationsResources } from "../organizations/resources";
import { route53Resources } from "../route53/resources";
import { s3Resources } from "../s3/resources";
import { snsResources } from "../sns/resources";
import { ssmResources } from "../ssm/resources";
import { wafv2Resources } from "../wafv2/resources";
import type { RegionServices } from "./services";

export const RESOURCE_HANDLERS: Record<string, ResourceHandler<RegionServices>> = {
  ...acmResources,
  ...apiGatewayResources,
  ...builtinResources,
  ...cloudWatchResources,
  ...dynamodbResources,
  ...eventsResources,
  ...iamResources,
  ...kinesisResources,
  ...kmsResources,
  ...lambdaResources,
  ...logsResources,
  ...organizationsResources,
  ...route53Resources,
  ...s3Resources,
  ...snsResources,
  ...ssmResources,
  ...wafv2Resources,
};

/** Data sources other than `terraform_remote_state`, which the deployer resolves itself. */
export const DATA_HANDLERS: Record<string, ResourceHandler<RegionServices>> = {};
