// What a stack's resources are created in: the services of its region, in its account, as the
// deployer's resource handlers see them.
import type { ApiGatewayState } from "../apigateway/state";
import type { CloudWatch } from "../cloudwatch/state";
import type { WafState } from "../wafv2/state";
import type { DynamoCoordinator, DynamoRegion } from "../dynamodb/coordinator";
import type { Schedules } from "../events/schedules";
import type { SnsState } from "../sns/state";
import type { IamIdentities } from "../iam/identities";
import type { KinesisClient } from "@aws-sdk/client-kinesis";
import type { LambdaService } from "../lambda/service";
import type { LogGroups } from "../logs/state";
import type { OrganizationsState } from "../organizations/state";
import type { Route53State } from "../route53/state";
import type { KinesisMappingConfig } from "../lambda/event-source-mapping";
import type { KmsState } from "../kms/state";
import type { S3State } from "../s3/state";
import type { SsmState } from "../ssm/state";
import type { StsState } from "../sts/state";

/** What the deployer asks for (the mapping's own id and region are Lambda's to give). */
export type KinesisMappingRequest = Omit<KinesisMappingConfig, "uuid" | "region"> & { enabled: boolean };

export interface RegionServices {
  region: string;
  accountId: string;
  apigateway: ApiGatewayState;
  lambda: LambdaService;
  /** The account's log groups in the region. */
  logs: LogGroups;
  /** The account's metrics, alarms and dashboards in the region. */
  cloudwatch: CloudWatch;
  /** The account's web ACLs in the region. */
  waf: WafState;
  dynamodb: DynamoRegion & { coordinator: DynamoCoordinator };
  kinesis: { client: KinesisClient };
  /** The account's topics in the region. */
  sns: SnsState;
  /** The account's scheduled rules in the region. */
  events: Schedules;
  /** Starts polling a stream for a function; resolves with the mapping's UUID. */
  startKinesisMapping(mapping: KinesisMappingRequest): Promise<string>;
  /** Global */
  route53: Route53State;
  /** Global (bucket names are) */
  s3: S3State;
  /** Global: every organization of the local cloud */
  organizations: OrganizationsState;
  /** Global to the account */
  iam: IamIdentities;
  sts: StsState;
  /** Keys and parameters of the account, kept per region inside */
  kms: KmsState;
  ssm: SsmState;
}
