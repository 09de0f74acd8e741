// One region of the local cloud: its DynamoDB and Kinesis backends, its Lambda service and API
// Gateway, and, per account deploying there, the account's log groups, SNS topics and scheduled
// rules (their ARNs carry the account, as in AWS).
import { join } from "node:path";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { ApiGatewayServer } from "../apigateway/server";
import { ApiGatewayState } from "../apigateway/state";
import type { ApiGatewayDependencies } from "../apigateway/dependencies";
import { DynamoBackend } from "../dynamodb/backend";
import type { DynamoCoordinator } from "../dynamodb/coordinator";
import { Schedules } from "../events/schedules";
import { KinesisBackend } from "../kinesis/kinesalite";
import { KinesisEventSourceMapping, newMappingUuid } from "../lambda/event-source-mapping";
import { LambdaService, type FunctionConfig, type InvokeResult } from "../lambda/service";
import { LogGroups } from "../logs/state";
import { SnsState } from "../sns/state";
import type { KinesisMappingRequest } from "./services";

export interface RegionContext {
  dataDir: string;
  socketDir: string;
  coordinator: DynamoCoordinator;
  /** Where every emulated AWS API is: the edge. */
  edgeUrl: () => string;
  timeScale: number;
  now: () => number;
  clockAt: (realMs: number) => number;
  isDown: () => boolean;
  log: (line: string) => void;
  platformEnvironment: (fn: FunctionConfig) => Record<string, string>;
  upstreams: Record<string, string>;
  /** Invokes a function anywhere in the local cloud by ARN. */
  invoke: (functionArn: string, event: unknown) => Promise<InvokeResult>;
  /** The credentials a Lambda event source mapping polls with: a session of the function's role. */
  pollerCredentials: (functionArn: string, roleArn: string) => { accessKeyId: string; secretAccessKey: string; sessionToken: string };
  apiGatewayDependencies: ApiGatewayDependencies;
  snsDeliveryLog: string;
}

export class RegionRuntime {
  readonly apigateway: ApiGatewayState;
  readonly lambda: LambdaService;
  readonly mappings: KinesisEventSourceMapping[] = [];
  private readonly logs = new Map<string, LogGroups>();
  private readonly sns = new Map<string, SnsState>();
  private readonly events = new Map<string, Schedules>();

  private constructor(
    readonly region: string,
    private readonly context: RegionContext,
    readonly dynamodb: DynamoBackend,
    readonly kinesis: KinesisBackend,
    readonly apiGateway: ApiGatewayServer,
  ) {
    this.apigateway = apiGateway.state;
    this.lambda = new LambdaService({
      dataDir: context.dataDir,
      logs: (accountId) => this.logsOf(accountId),
      platformEnvironment: context.platformEnvironment,
      upstreams: context.upstreams,
      regionDown: context.isDown,
    });
  }

  static async start(region: string, context: RegionContext, apiGatewayPort: number): Promise<RegionRuntime> {
    const regionDir = join(context.dataDir, region);
    const dynamodb = await DynamoBackend.start({ region, dataDir: join(regionDir, "dynamodb"), socketDir: context.socketDir });
    context.coordinator.addRegion(dynamodb);
    const kinesis = await KinesisBackend.start({ region, socketDir: context.socketDir });
    const apiGateway = new ApiGatewayServer(new ApiGatewayState(region), context.apiGatewayDependencies);
    await apiGateway.start(apiGatewayPort);
    return new RegionRuntime(region, context, dynamodb, kinesis, apiGateway);
  }

  /** The account's log groups in this region (created on first use). */
  logsOf(accountId: string): LogGroups {
    let groups = this.logs.get(accountId);
    if (!groups) {
      groups = new LogGroups(this.region, accountId, join(this.context.dataDir, this.region, "logs", accountId));
      this.logs.set(accountId, groups);
    }
    return groups;
  }

  snsOf(accountId: string): SnsState {
    let sns = this.sns.get(accountId);
    if (!sns) {
      sns = new SnsState({
        region: this.region,
        accountId,
        deliveryLog: this.context.snsDeliveryLog,
        invokeLambda: async (functionArn, event) => {
          try {
            const result = await this.context.invoke(functionArn, event);
            return result.ok ? undefined : `${result.error.errorType}: ${result.error.errorMessage}`;
          } catch (error) {
            return `${(error as Error).name}: ${(error as Error).message}`;
          }
        },
        onDelivery: (d) => this.context.log(`sns: ${d.protocol}:${d.endpoint} <- ${d.subject ? `[${d.subject}] ` : ""}${d.message}`),
      });
      this.sns.set(accountId, sns);
    }
    return sns;
  }

  allSns(): SnsState[] {
    return [...this.sns.values()];
  }

  eventsOf(accountId: string): Schedules {
    let events = this.events.get(accountId);
    if (!events) {
      events = new Schedules({
        region: this.region,
        accountId,
        timeScale: this.context.timeScale,
        now: this.context.now,
        invoke: async (functionArn, event, ruleArn) => {
          const permitted = this.lambda.permits(functionArn, "events.amazonaws.com", ruleArn);
          if (!permitted.allowed) return this.context.log(`events: ${ruleArn} cannot invoke ${functionArn}: ${permitted.reason}`);
          const result = await this.context.invoke(functionArn, event);
          if (!result.ok) this.context.log(`events: ${functionArn} failed: ${result.error.errorMessage}`);
        },
        log: this.context.log,
      });
      this.events.set(accountId, events);
    }
    return events;
  }

  /** An event source mapping, polling with a session of the function's role through the edge. */
  async startKinesisMapping(config: KinesisMappingRequest): Promise<string> {
    const credentials = () => this.context.pollerCredentials(config.functionArn, config.roleArn);
    const mapping = new KinesisEventSourceMapping(
      { ...config, uuid: newMappingUuid(), region: this.region },
      {
        kinesis: new KinesisClient({
          region: this.region,
          endpoint: this.context.edgeUrl(),
          credentials: async () => credentials(),
          // HTTP/1.1 (the Kinesis client's default handler would try HTTP/2).
          requestHandler: new NodeHttpHandler(),
        }),
        invoke: this.context.invoke,
        clock: this.context.clockAt,
        now: this.context.now,
        log: this.context.log,
        idlePollMs: Math.max(20, 1000 / this.context.timeScale),
      },
    );
    if (config.enabled) await mapping.start();
    this.mappings.push(mapping);
    return mapping.config.uuid;
  }

  /** Stops what calls into the stores (schedules, pollers, API Gateway, functions). */
  async stopCallers(): Promise<void> {
    for (const events of this.events.values()) events.stop();
    await Promise.all(this.mappings.map((m) => m.stop()));
    await this.apiGateway.stop();
    await this.lambda.stop();
  }

  /** Stops the stores, once every caller in every region has stopped. */
  async stopStores(): Promise<void> {
    for (const groups of this.logs.values()) await groups.close();
    await this.kinesis.stop();
    await this.dynamodb.stop();
  }
}
