// The services the edge serves, each over the state of the region and account a call is for.
import { cloudWatchApi } from "../cloudwatch/api";
import { DynamoDbApi } from "../dynamodb/api";
import type { DynamoCoordinator } from "../dynamodb/coordinator";
import type { EdgeService } from "../edge/types";
import { iamApi } from "../iam/api";
import { KinesisApi } from "../kinesis/api";
import { kmsApi } from "../kms/api";
import { LambdaApi } from "../lambda/api";
import { logsApi } from "../logs/api";
import { organizationsApi } from "../organizations/api";
import type { OrganizationsState } from "../organizations/state";
import { S3Api } from "../s3/api";
import type { S3State } from "../s3/state";
import { snsApi } from "../sns/api";
import { ssmApi } from "../ssm/api";
import { stsApi } from "../sts/api";
import { wafv2Api } from "../wafv2/api";
import type { Accounts } from "./accounts";
import type { RegionRuntime } from "./regions";

export function edgeServices(cloud: {
  regions: Map<string, RegionRuntime>;
  accounts: Accounts;
  dynamo: DynamoCoordinator;
  s3: S3State;
  organizations: OrganizationsState;
  route53: EdgeService;
}): Record<string, EdgeService> {
  const region = (name: string) => cloud.regions.get(name);
  const regionOrThrow = (name: string) => {
    const runtime = region(name);
    if (!runtime) throw new Error(`no region ${name} in the local cloud`);
    return runtime;
  };
  const cloudWatchOf = (name: string, accountId: string) => regionOrThrow(name).cloudWatchOf(accountId);
  return {
    dynamodb: new DynamoDbApi((name) => region(name)?.dynamodb, cloud.dynamo, cloudWatchOf),
    kinesis: new KinesisApi((name) => region(name)?.kinesis, cloudWatchOf),
    s3: new S3Api(cloud.s3),
    sns: snsApi((name, accountId) => regionOrThrow(name).snsOf(accountId)),
    kms: kmsApi((accountId) => cloud.accounts.get(accountId).kms),
    ssm: ssmApi((accountId) => cloud.accounts.get(accountId).ssm),
    sts: stsApi((accountId) => {
      const account = cloud.accounts.find(accountId);
      return account && { sts: account.sts, roles: account.iam };
    }),
    lambda: new LambdaApi((name) => region(name)?.lambda),
    logs: logsApi((name, accountId) => regionOrThrow(name).logsOf(accountId)),
    iam: iamApi((accountId) => cloud.accounts.get(accountId).iam),
    organizations: organizationsApi(cloud.organizations),
    route53: cloud.route53,
    monitoring: cloudWatchApi(cloudWatchOf),
    wafv2: wafv2Api((name, accountId) => regionOrThrow(name).wafOf(accountId)),
  };
}
