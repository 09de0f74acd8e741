// The emulated services of one region (and the account-global ones it shares), as resource
// handlers and the API Gateway integration see them.
import type { ApiGatewayState } from "../apigateway/state";
import type { DynamoCoordinator, DynamoRegion } from "../dynamodb/front";
import type { Schedules } from "../events/schedules";
import type { SnsState } from "../sns/state";
import type { IamRoles } from "../iam/roles";
import type { LambdaService } from "../lambda/service";
import type { LogGroups } from "../logs/state";
import type { Route53State } from "../route53/state";
import type { KmsState } from "../kms/state";
import type { S3State } from "../s3/state";
import type { SsmState } from "../ssm/state";
import type { StsState } from "../sts/state";

/** A running emulator reachable over HTTP on loopback. */
export interface Endpoint {
  endpoint: string;
}

/** The services of one region, shared by every account deploying there. */
export interface RegionScopedServices {
  region: string;
  apigateway: ApiGatewayState;
  lambda: LambdaService;
  logs: LogGroups;
  dynamodb: DynamoRegion & { coordinator: DynamoCoordinator };
  kinesis: Endpoint;
  sns: SnsState;
  events: Schedules;
  /** Starts polling a stream for a function; resolves with the mapping's UUID. */
  startKinesisMapping(mapping: {
    functionArn: string;
    streamArn: string;
    batchSize: number;
    startingPosition: "LATEST" | "TRIM_HORIZON";
    maximumRetryAttempts: number;
    roleArn: string;
    enabled: boolean;
  }): Promise<string>;
  /** Global */
  route53: Route53State;
  /** Global (bucket names are) */
  s3: S3State;
}

/** What a stack's resources are created in: its region's services and its account's. */
export interface RegionServices extends RegionScopedServices {
  accountId: string;
  /** Global to the account */
  iam: IamRoles;
  sts: StsState;
  /** Keys and parameters of the account, kept per region inside */
  kms: KmsState;
  ssm: SsmState;
}
