// One region of the local cloud: its DynamoDB and Kinesis backends, its Lambda service and API
// Gateway, and, per account deploying there, the account's log groups, SNS topics, scheduled
// rules, CloudWatch (metrics, alarms, dashboards) and WAF web ACLs (their ARNs carry the
// account, as in AWS).
import { join } from "node:path";
import { KinesisClient } from "@aws-sdk/client-kinesis";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { ApiGatewayServer } from "../apigateway/server";
import { ApiGatewayState } from "../apigateway/state";
import type { ApiGatewayDependencies } from "../apigateway/dependencies";
import type { Notify } from "../cloudwatch/alarms";
import { CloudWatch } from "../cloudwatch/state";
import { WafState } from "../wafv2/state";
import { DynamoBackend } from "../dynamodb/backend";
import type { DynamoCoordinator } from "../dynamodb/coordinator";
import { Schedules } from "../events/schedules";
import { signOnLocalClock, type LocalClock } from "../lib/clock";
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
  /** The local cloud's one clock (local/lib/clock.ts). */
  clock: LocalClock;
  /** Runs an alarm action (publishes to an SNS topic, wherever it is). */
  notifyAlarm: Notify;
  /** The X-Ray daemon stand-in functions with active tracing send their segments to. */
  xrayDaemonAddress: () => string | undefined;
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

/** An account's instance of a regional service, created on its first use. */
function ofAccount<T>(instances: Map<string, T>, accountId: string, create: () => T): T {
  let instance = instances.get(accountId);
  if (!instance) instances.set(accountId, (instance = create()));
  return instance;
}

export class RegionRuntime {
  readonly apigateway: ApiGatewayState;
  readonly lambda: LambdaService;
  readonly mappings: KinesisEventSourceMapping[] = [];
  private readonly logs = new Map<string, LogGroups>();
  private readonly sns = new Map<string, SnsState>();
  private readonly events = new Map<string, Schedules>();
  private readonly cloudWatch = new Map<string, CloudWatch>();
  private readonly waf = new Map<string, WafState>();

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
      publishMetric: (fn, metricName, value, unit) => this.cloudWatchOf(fn.accountId).record("AWS/Lambda", metricName, { FunctionName: fn.name }, value, unit),
      xrayDaemonAddress: context.xrayDaemonAddress,
      clock: context.clock,
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
    return ofAccount(this.logs, accountId, () =>
      new LogGroups(
        this.region,
        accountId,
        join(this.context.dataDir, this.region, "logs", accountId),
        () => this.context.clock.now(),
        (message) => this.cloudWatchOf(accountId).ingestLogEvent(message),
      ),
    );
  }

  snsOf(accountId: string): SnsState {
    return ofAccount(this.sns, accountId, () =>
      new SnsState({
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
        now: () => this.context.clock.now(),
      }),
    );
  }

  /** The account's CloudWatch in this region (created on first use). */
  cloudWatchOf(accountId: string): CloudWatch {
    return ofAccount(
      this.cloudWatch,
      accountId,
      () => new CloudWatch({ region: this.region, accountId, clock: this.context.clock, notify: this.context.notifyAlarm, log: this.context.log }),
    );
  }

  /** The account's WAF in this region (created on first use). */
  wafOf(accountId: string): WafState {
    return ofAccount(this.waf, accountId, () => new WafState(this.region, accountId, this.context.clock));
  }

  allSns(): SnsState[] {
    return [...this.sns.values()];
  }

  eventsOf(accountId: string): Schedules {
    return ofAccount(this.events, accountId, () =>
      new Schedules({
        region: this.region,
        accountId,
        clock: this.context.clock,
        invoke: async (functionArn, event, ruleArn) => {
          const permitted = this.lambda.permits(functionArn, "events.amazonaws.com", ruleArn);
          if (!permitted.allowed) return this.context.log(`events: ${ruleArn} cannot invoke ${functionArn}: ${permitted.reason}`);
          const result = await this.context.invoke(functionArn, event);
          if (!result.ok) this.context.log(`events: ${functionArn} failed: ${result.error.errorMessage}`);
        },
        log: this.context.log,
      }),
    );
  }

  /** An event source mapping, polling with a session of the function's role through the edge. */
  async startKinesisMapping(config: KinesisMappingRequest): Promise<string> {
    const credentials = () => this.context.pollerCredentials(config.functionArn, config.roleArn);
    const mapping = new KinesisEventSourceMapping(
      { ...config, uuid: newMappingUuid(), region: this.region },
      {
        kinesis: signOnLocalClock(
          new KinesisClient({
            region: this.region,
            endpoint: this.context.edgeUrl(),
            credentials: async () => credentials(),
            // HTTP/1.1 (the Kinesis client's default handler would try HTTP/2).
            requestHandler: new NodeHttpHandler(),
          }),
          this.context.clock,
        ),
        invoke: this.context.invoke,
        clock: this.context.clock,
        log: this.context.log,
        idlePollMs: idlePollMs(this.context.clock),
        recordIteratorAge: (ms) =>
          this.cloudWatchOf(config.functionArn.split(":")[4]).record("AWS/Lambda", "IteratorAge", { FunctionName: config.functionArn.split(":")[6] }, ms, "Milliseconds"),
      },
    );
    if (config.enabled) await mapping.start();
    this.mappings.push(mapping);
    return mapping.config.uuid;
  }

  /** Resolves once every record put on this region's streams so far has reached its function (see KinesisEventSourceMapping.caughtUp). */
  async mappingsCaughtUp(): Promise<void> {
    await Promise.all(this.mappings.map((m) => m.caughtUp()));
  }

  /** Resolves once every log line written so far in this region is in its file. */
  async flushLogs(): Promise<void> {
    await Promise.all([...this.logs.values()].map((groups) => groups.flush()));
  }

  /** Stops what calls into the stores (schedules, pollers, API Gateway, functions). */
  async stopCallers(): Promise<void> {
    for (const events of this.events.values()) events.stop();
    for (const cloudWatch of this.cloudWatch.values()) cloudWatch.stop();
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

/**
 * How often an idle poller looks at its shard, in real ms: Lambda polls once a second, faster
 * with a faster clock; on manual time once a second too, since moving the clock wakes it.
 */
function idlePollMs(clock: LocalClock): number {
  return clock.mode === "scaled" ? Math.max(20, 1000 / clock.scale) : 1000;
}
