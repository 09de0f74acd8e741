// The local cloud: deploys a synthesized app (its `cdk.tf.json` files and Lambda zips, nothing
// else) for one workspace into emulated AWS services on loopback, and serves it. Every AWS API is
// behind one edge endpoint that checks each call's signature and IAM; the regions, the accounts,
// Route 53's data plane and the stand-ins for the world outside AWS are started here and wired
// together, each in its own module.
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import type { IamIdentities } from "../iam/identities";
import type { IssuedCredentials } from "../sts/credentials";
import { LOCAL_OIDC_KEYS_ORIGIN, startOidcIssuer, type RunningOidcIssuer } from "../standins/idp/oidc";
import type { RunningIdp } from "../standins/idp/server";
import { startNasaFixtureServer, type RunningNasaFixture } from "../standins/nasa/server";
import { S3State, type Bucket } from "../s3/state";
import { startS3Website, type RunningWebsite } from "../s3/website";
import { REAL_TIME, type ApiGatewayDependencies } from "../apigateway/dependencies";
import { deployStack, type DeployedStack } from "../deployer/deploy";
import { DeployError, VariableInvalidError } from "../deployer/types";
import { DynamoCoordinator } from "../dynamodb/coordinator";
import type { FunctionConfig, InvokeResult, LambdaService } from "../lambda/service";
import { Route53State } from "../route53/state";
import { Answerer } from "../route53/answer";
import { route53Api } from "../route53/api";
import { regionOfAddress } from "../route53/client-regions";
import { OrganizationsState } from "../organizations/state";
import { privateSocketDir } from "../lib/backend-socket";
import type { RunningHttpServer } from "../lib/http-serve";
import { RegionOutages } from "../lib/outages";
import { ManualClock, ScaledClock, signOnLocalClock, type LocalClock } from "../lib/clock";
import { Edge } from "../edge/server";
import { authorize } from "../iam/authorize";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import type { AlarmConfig } from "../cloudwatch/alarms";
import { evaluate } from "../iam/evaluator";
import { inspect } from "../wafv2/firewall";
import { startXrayDaemon, type RunningXrayDaemon } from "../xray/daemon";
import { Accounts } from "./accounts";
import { callService } from "./aws-call";
import { startControl, type RunningControl } from "./control";
import { edgeServices } from "./edge-services";
import { EDGE_SERVICES, type LocalEndpoints, type SkippedStack } from "./endpoints";
import { startIdentityProvider } from "../standins/identity-provider";
import { PortAllocator } from "./ports";
import { RegionRuntime } from "./regions";
import { DATA_HANDLERS, RESOURCE_HANDLERS } from "./registry";
import { startRoute53Plane, type Route53Plane } from "./route53-plane";
import type { RegionServices } from "./services";
import { providerRegion, readStacks } from "./stacks";

export type { LocalEndpoints, SkippedStack } from "./endpoints";

export interface LocalCloudOptions {
  /** A synthesized app (`cdktf.out`): its manifest and stacks. */
  outdir: string;
  workspace: string;
  /** Where emulators keep data across restarts. */
  dataDir: string;
  /** First port of the range the local cloud listens on; 0 takes free ports. */
  port?: number;
  /**
   * The clock everything time-dependent runs on (local/lib/clock.ts): "scaled" (default) is real
   * time, `timeScale` times faster; "manual" moves only when told (`advance`, the control endpoint).
   */
  clock?: "scaled" | "manual";
  /** Scaled clock: it runs this many times faster than real time (default 1). */
  timeScale?: number;
  /** Manual clock: its first instant (default: the real time at start). */
  clockStart?: Date;
  /** Values for Terraform variables without defaults. */
  variables?: Record<string, unknown>;
  /** The region callers on this machine are nearest to, for latency records (default us-east-1). */
  callerRegion?: string;
  /** Replication lag of global tables, in ms. */
  replicationLagMs?: number;
  log?: (line: string) => void;
}

/** The variable whose validation refuses a workspace a stack is not for (stacks/workspace-environment.ts). */
export const WORKSPACE_GUARD_VARIABLE = "workspace_check";

/** Account used when a stack's provider pins none (`allowed_account_ids`). */
export const DEFAULT_ACCOUNT_ID = "000000000000";

/** Route 53 publishes its health checks' metrics in us-east-1. */
const ROUTE53_METRICS_REGION = "us-east-1";

export class LocalCloud {
  readonly regions = new Map<string, RegionRuntime>();
  readonly deployed = new Map<string, DeployedStack>();
  readonly skipped: SkippedStack[] = [];
  readonly route53 = new Route53State();
  readonly dynamo: DynamoCoordinator;
  /** Regions taken down for a drill (the control endpoint sets them). */
  readonly outages = new RegionOutages();
  readonly accounts: Accounts;
  /** The one clock of this local cloud. */
  readonly clock: LocalClock;
  /** Stream writes (PutRecord/PutRecords) counted when the streams last settled (see `settle`). */
  private settledAtPuts = 0;
  private readonly s3State: S3State;
  readonly organizations: OrganizationsState;
  private readonly sockets = privateSocketDir();
  private edge?: Edge;
  private edgeServer?: RunningHttpServer;
  private control?: RunningControl;
  private s3Website?: RunningWebsite;
  private route53Plane?: Route53Plane;
  /** The local IdP playing AD FS, when a SAML provider trusts its metadata. */
  idp?: RunningIdp;
  /** Stands in for api.nasa.gov and mars.nasa.gov (the Mars display's upstreams). */
  nasa?: RunningNasaFixture;
  /** The third-party OAuth issuer of the Comments API's tokens (dev config's commentsAuth). */
  oidc?: RunningOidcIssuer;
  /** Where functions with active tracing send their X-Ray segments. */
  xray?: RunningXrayDaemon;
  private readonly ports: PortAllocator;
  private readonly log: (line: string) => void;
  readonly dataDir: string;

  private constructor(readonly options: LocalCloudOptions) {
    this.log = options.log ?? (() => {});
    this.ports = new PortAllocator(options.port ?? 0);
    this.dataDir = resolve(options.dataDir);
    this.clock = createClock(options, () => this.settle());
    const now = () => this.clock.now();
    this.dynamo = new DynamoCoordinator(options.replicationLagMs ?? 200, this.log, this.outages);
    this.s3State = new S3State({ dataDir: this.dataDir, now });
    this.organizations = new OrganizationsState({ dataDir: this.dataDir, now });
    // Every call an account makes is held to the SCPs of its organization.
    this.accounts = new Accounts(this.dataDir, (accountId) => this.organizations.scpsFor(accountId), now);
  }

  static async start(options: LocalCloudOptions): Promise<LocalCloud> {
    const cloud = new LocalCloud(options);
    try {
      await cloud.boot();
    } catch (error) {
      await cloud.stop();
      throw error;
    }
    return cloud;
  }

  get healthCheckers() {
    return this.route53Plane?.healthCheckers;
  }

  get dns() {
    return this.route53Plane?.dns;
  }

  get platformDomain() {
    return this.route53Plane?.platformDomain;
  }

  private async boot() {
    mkdirSync(this.dataDir, { recursive: true });
    const stacks = readStacks(this.options.outdir);
    const regions = [...new Set(stacks.map(providerRegion))].sort();
    this.xray = await startXrayDaemon({ log: this.log });
    this.edge = new Edge({
      services: edgeServices({
        regions: this.regions,
        accounts: this.accounts,
        dynamo: this.dynamo,
        s3: this.s3State,
        organizations: this.organizations,
        // Route 53's API answers from the records and health checkers that serve DNS.
        route53: route53Api({
          state: this.route53,
          answerer: new Answerer({ state: this.route53, isHealthy: (id) => this.healthCheckers?.isHealthy(id) ?? true }),
          healthStatus: (id) => this.healthCheckers?.statusOf(id),
          regionOfAddress,
        }),
      }),
      credentials: this.accounts.lookup,
      callerOf: this.accounts.callerOf,
      policies: this.accounts,
      regions: () => [...this.regions.keys()],
      outages: this.outages,
      now: () => new Date(this.clock.now()),
      log: this.log,
    });
    this.edgeServer = await this.edge.start(this.ports.next());
    this.control = await startControl({
      regions: () => [...this.regions.keys()],
      outages: this.outages,
      clock: this.clock,
      deliveries: () => [...this.regions.values()].flatMap((r) => r.allSns().flatMap((s) => s.deliveries)),
      log: this.log,
      port: this.ports.next(),
    });
    this.nasa = await startNasaFixtureServer({ port: this.ports.next(), today: () => new Date(this.clock.now()) });
    this.oidc = await startOidcIssuer({ port: this.ports.next(), now: () => this.clock.now() });
    this.s3Website = await startS3Website(this.s3State, this.ports.next());
    for (const region of regions) await this.startRegion(region);
    this.dynamo.startTtlSweeper(this.clock);
    await this.deployStacks(stacks);
    // Every account of an organization can be signed in to (its administrator's key in endpoints.json).
    for (const id of this.organizations.accountIds()) this.accounts.get(id);
    this.idp = await startIdentityProvider(this.accounts.all(), this.ports.next(), this.log, () => this.clock.now());
    this.route53Plane = await startRoute53Plane({
      state: this.route53,
      clock: this.clock,
      gatewayOf: (region) => this.regions.get(region)?.apiGateway.url,
      callerRegion: this.options.callerRegion ?? "us-east-1",
      nextPort: () => this.ports.next(),
      log: this.log,
      // Route 53's metrics exist in us-east-1 only.
      publishMetric: (accountId, metricName, dimensions, value, unit) =>
        this.regions.get(ROUTE53_METRICS_REGION)?.cloudWatchOf(accountId).record("AWS/Route53", metricName, dimensions, value, unit),
    });
    if (this.deployed.size === 0) {
      throw new DeployError("NOTHING_DEPLOYED", `no stack could be deployed in workspace ${this.options.workspace}:\n${this.skipped.map((s) => `  ${s.stack}: ${s.reason}`).join("\n")}`);
    }
  }

  private async deployStacks(stacks: ReturnType<typeof readStacks>) {
    for (const stack of stacks) {
      const missing = stack.dependencies.filter((d) => !this.deployed.has(d));
      if (missing.length > 0) {
        this.skipped.push({ stack: stack.name, reason: `depends on ${missing.join(", ")}, which is not deployed` });
        continue;
      }
      this.log(`deploy: ${stack.name} (workspace ${this.options.workspace})`);
      const started = performance.now();
      try {
        const deployed = await deployStack(
          stack,
          {
            workspace: this.options.workspace,
            variables: this.options.variables,
            defaultAccountId: DEFAULT_ACCOUNT_ID,
            servicesFor: async (region, accountId) => this.servicesFor(region, accountId),
            resourceHandlers: RESOURCE_HANDLERS,
            dataHandlers: DATA_HANDLERS,
            log: this.log,
          },
          this.deployed,
        );
        this.deployed.set(stack.name, deployed);
        this.log(`deploy: ${stack.name}: ${deployed.resources.size} resources in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      } catch (error) {
        // A stack that is not deployed in this workspace says so through its workspace guard.
        if (error instanceof VariableInvalidError && error.variable === WORKSPACE_GUARD_VARIABLE) {
          this.skipped.push({ stack: stack.name, reason: error.message });
          this.log(`deploy: ${stack.name}: not deployed: ${error.message}`);
          continue;
        }
        throw error;
      }
    }
  }

  /** Where on loopback a public URL of the platform's custom domain is served (the first region that has it). */
  localUrl(publicUrl: string): string | undefined {
    for (const runtime of this.regions.values()) {
      const url = runtime.apiGateway.localUrl(publicUrl);
      if (url) return url;
    }
    return undefined;
  }

  /** The local cloud's time (epoch ms). */
  now(): number {
    return this.clock.now();
  }

  /**
   * Manual clock: moves time forward by `ms`, running what falls due on the way (schedule ticks,
   * health checks, TTL sweeps), each after every record on the streams reached its function.
   */
  advance(ms: number): Promise<number> {
    return this.manualClock().advance(ms);
  }

  /** Manual clock: moves time forward to `at` (epoch ms); see `advance`. */
  advanceTo(at: number): Promise<number> {
    return this.manualClock().advanceTo(at);
  }

  private manualClock(): ManualClock {
    if (this.clock.mode !== "manual") throw new DeployError("CLOCK_NOT_MANUAL", "this local cloud runs on a scaled real-time clock; start it with the manual clock (clock: \"manual\", npm start -- --clock manual) to move time by hand");
    return this.clock;
  }

  /**
   * Resolves once every record put on a stream so far has reached its function, and every record
   * those functions put in turn has reached its own: what the manual clock waits for before it moves.
   */
  async settle(): Promise<void> {
    const puts = () => [...this.regions.values()].reduce((sum, runtime) => sum + runtime.kinesis.puts, 0);
    // Settled when a round of catching up saw no record put during it.
    for (let before = puts(); before !== this.settledAtPuts; before = puts()) {
      await Promise.all([...this.regions.values()].map((runtime) => runtime.mappingsCaughtUp()));
      if (puts() === before) this.settledAtPuts = before;
    }
  }

  private servicesFor(region: string, accountId: string): RegionServices {
    const runtime = this.regionOf(region);
    const account = this.accounts.get(accountId);
    return {
      region,
      accountId,
      apigateway: runtime.apigateway,
      lambda: runtime.lambda,
      logs: runtime.logsOf(accountId),
      cloudwatch: runtime.cloudWatchOf(accountId),
      waf: runtime.wafOf(accountId),
      dynamodb: { region, client: runtime.dynamodb.client, coordinator: this.dynamo },
      kinesis: { client: runtime.kinesis.client },
      sns: runtime.snsOf(accountId),
      events: runtime.eventsOf(accountId),
      startKinesisMapping: (mapping) => runtime.startKinesisMapping(mapping),
      route53: this.route53,
      s3: this.s3State,
      organizations: this.organizations,
      iam: account.iam,
      sts: account.sts,
      kms: account.kms,
      ssm: account.ssm,
    };
  }

  private async startRegion(region: string) {
    const invoke = (functionArn: string, event: unknown): Promise<InvokeResult> => this.regionOf(functionArn.split(":")[3]).lambda.invoke(functionArn, event);
    const runtime = await RegionRuntime.start(
      region,
      {
        dataDir: this.dataDir,
        socketDir: this.sockets.dir,
        coordinator: this.dynamo,
        edgeUrl: () => this.edgeServer!.url,
        clock: this.clock,
        notifyAlarm: (topicArn, subject, message, alarm) => this.notifyAlarm(topicArn, subject, message, alarm),
        xrayDaemonAddress: () => this.xray?.address,
        isDown: () => this.outages.isDown(region),
        log: this.log,
        platformEnvironment: (fn) => this.lambdaEnvironment(fn),
        upstreams: { "https://api.nasa.gov": this.nasa!.url, "https://mars.nasa.gov": this.nasa!.url, [LOCAL_OIDC_KEYS_ORIGIN]: this.oidc!.url },
        invoke,
        pollerCredentials: (functionArn, roleArn) => this.accounts.get(functionArn.split(":")[4]).functionCredentials(functionArn, roleArn),
        apiGatewayDependencies: this.apiGatewayDependencies(region, invoke),
        snsDeliveryLog: join(this.dataDir, "sns-deliveries.jsonl"),
      },
      this.ports.next(),
    );
    this.regions.set(region, runtime);
    this.log(`start: ${region}: API Gateway ${runtime.apiGateway.url}`);
  }

  /**
   * What every Lambda environment gets: the edge as every AWS SDK endpoint, and a session of its
   * execution role, so that IAM decides what it may do.
   */
  private lambdaEnvironment(fn: FunctionConfig): Record<string, string> {
    const session = this.accounts.get(fn.accountId).functionCredentials(fn.arn, fn.roleArn);
    return {
      AWS_ENDPOINT_URL: this.edgeServer!.url,
      AWS_ACCESS_KEY_ID: session.accessKeyId,
      AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
      AWS_SESSION_TOKEN: session.sessionToken,
    };
  }

  private regionOf(region: string): RegionRuntime {
    const runtime = this.regions.get(region);
    if (!runtime) throw new DeployError("UNKNOWN_REGION", `no region ${region} in the local cloud`);
    return runtime;
  }

  private apiGatewayDependencies(region: string, invoke: ApiGatewayDependencies["invokeLambda"]): ApiGatewayDependencies {
    const account = (arn: string) => this.accounts.get(arn.split(":")[4]);
    return {
      invokeLambda: invoke,
      lambdaAllows: (functionArn, sourceArn) => this.regionOf(functionArn.split(":")[3]).lambda.permits(functionArn, "apigateway.amazonaws.com", sourceArn),
      roleAssumable: (roleArn) => {
        const decision = account(roleArn).serviceMayAssume("apigateway.amazonaws.com", roleArn);
        return decision.decision === "Allow" ? { allowed: true } : { allowed: false, reason: decision.reason };
      },
      callAwsService: (call, roleArn) => callService(call, account(roleArn).serviceCredentials("apigateway", roleArn), this.edge!.handle, new Date(this.clock.now())),
      authenticate: (request) => this.accounts.authenticate(request),
      callerAllows: (identity, methodArn) => {
        const caller = this.accounts.callerOf(identity.accessKeyId);
        if (!caller) return { allowed: false, reason: `no session for ${identity.accessKeyId}` };
        const decision = authorize(this.accounts, caller, { action: "execute-api:Invoke", resource: methodArn }, undefined, region);
        return decision.allowed ? { allowed: true } : { allowed: false, reason: decision.reason };
      },
      writeAccessLog: (destinationArn, line) => this.regionOf(region).logsOf(destinationArn.split(":")[4] || DEFAULT_ACCOUNT_ID).write(destinationArn, line),
      regionDown: () => this.outages.isDown(region),
      publishMetric: (accountId, metricName, dimensions, value, unit) => this.regionOf(region).cloudWatchOf(accountId).record("AWS/ApiGateway", metricName, dimensions, value, unit),
      firewall: (accountId, resourceArn, request, httpSourceId) => {
        const runtime = this.regionOf(region);
        const verdict = inspect(
          runtime.wafOf(accountId),
          resourceArn,
          request,
          {
            now: () => this.now(),
            writeLog: (destinationArn, line) => runtime.logsOf(destinationArn.split(":")[4]).write(destinationArn, line),
            metric: (metricName, dimensions) => runtime.cloudWatchOf(accountId).record("AWS/WAFV2", metricName, dimensions, 1, "Count"),
          },
          httpSourceId,
        );
        return verdict?.action;
      },
      // Request times, the authorizer cache, throttling and quotas on the local clock; the
      // integration timeout (29 s) limits real work and stays on real time.
      clock: { now: () => this.clock.now(), timer: REAL_TIME.timer },
    };
  }

  /**
   * An alarm action, as CloudWatch runs it: a publish to an SNS topic of the alarm's region, which
   * the topic's policy must let CloudWatch make for this alarm (aws:SourceArn, aws:SourceAccount);
   * without a policy, a topic takes the alarms of its own account (SNS's default policy).
   * Resolves with why it failed, if it did.
   */
  private async notifyAlarm(topicArn: string, subject: string, message: string, alarm: AlarmConfig): Promise<string | undefined> {
    const [, , service, region, account] = topicArn.split(":");
    if (service !== "sns") return `${topicArn} is not an SNS topic: the local cloud runs SNS alarm actions only`;
    if (region !== alarm.region) return `${topicArn} is in ${region}: an alarm notifies topics of its own region (${alarm.region})`;
    const sns = this.regionOf(region).snsOf(account);
    if (!sns.listTopics().includes(topicArn)) return `Topic does not exist: ${topicArn}`;
    const policy = sns.topicPolicy(topicArn);
    const allowed = policy
      ? evaluate(
          {
            action: "sns:Publish",
            resource: topicArn,
            principal: { type: "Service", id: "cloudwatch.amazonaws.com" },
            context: { "aws:SourceArn": alarm.arn, "aws:SourceAccount": alarm.accountId },
          },
          { resourcePolicies: [JSON.parse(policy)], resourcePolicyRequired: true, resourceAccount: account },
        ).decision === "Allow"
      : account === alarm.accountId;
    if (!allowed) return `CloudWatch Alarms is not authorized to perform: SNS:Publish on resource: ${topicArn}`;
    await sns.publish(topicArn, message, subject);
    return undefined;
  }

  /** Everything a person or a test needs to reach the running platform. */
  endpoints(): LocalEndpoints {
    const edge = this.edgeServer!.url;
    const regions: LocalEndpoints["regions"] = {};
    for (const [region, runtime] of this.regions) {
      const apis = [...runtime.apigateway.apis.values()];
      const api = apis[0];
      const stage = api ? [...api.stages.keys()][0] : undefined;
      const base = `${runtime.apiGateway.url}${stage ? `/${stage}` : ""}`;
      const accountId = [...this.deployed.values()].find((d) => d.region === region)?.accountId ?? DEFAULT_ACCOUNT_ID;
      regions[region] = {
        accountId,
        apiUrl: base,
        healthFunction: runtime.lambda.listFunctions().find((f) => f.name.endsWith("-healthcheck"))?.name,
        healthUrl: `${base}/healthcheck`,
        apiId: api?.id,
        gatewayUrl: runtime.apiGateway.url,
        dynamodb: edge,
        kinesis: edge,
        // The log groups of the account the region's stack is deployed in.
        logs: join(this.dataDir, region, "logs", accountId),
      };
    }
    // The display's endpoint in the region listed first (us-east-1), with the key Terraform outputs.
    const marsStack = [...this.deployed.values()].find((d) => typeof d.outputs.MarsApiKey === "string");
    const mars = marsStack && regions[marsStack.region] ? { url: `${regions[marsStack.region].apiUrl}/mars`, apiKey: String(marsStack.outputs.MarsApiKey) } : undefined;
    return {
      workspace: this.options.workspace,
      dataDir: this.dataDir,
      ...(mars ? { mars } : {}),
      nasa: this.nasa ? { url: this.nasa.url } : undefined,
      oidc: this.oidc
        ? { issuer: this.oidc.issuer, url: this.oidc.url, discoveryUrl: this.oidc.discoveryUrl, jwksUrl: this.oidc.jwksUrl, tokenUrl: this.oidc.tokenUrl, clients: this.oidc.clients }
        : undefined,
      dns: this.route53Plane ? { address: this.route53Plane.dns.address, healthChecks: this.route53Plane.healthCheckers.status() } : undefined,
      platformDomain: this.route53Plane?.platformDomain ? { name: this.route53Plane.platformDomain.domain, httpUrl: this.route53Plane.platformDomain.url } : undefined,
      idp: this.idp ? { url: this.idp.url, signOnUrl: this.idp.signOnUrl(), metadataUrl: this.idp.metadataUrl, users: this.idp.users } : undefined,
      websites: Object.fromEntries(this.s3State.listBuckets().filter((b) => b.website).map((b) => [b.name, `${this.s3Website!.url}/${b.name}/`])),
      clock: { url: `${this.control!.url}/clock`, mode: this.clock.mode, ...(this.clock.mode === "scaled" ? { timeScale: this.clock.scale } : {}) },
      control: { url: this.control!.url },
      sns: { deliveries: `${this.control!.url}/sns/deliveries`, log: join(this.dataDir, "sns-deliveries.jsonl") },
      services: { edge, ...Object.fromEntries(EDGE_SERVICES.map((service) => [service, edge])) },
      credentials: Object.fromEntries(
        this.accounts.all().map((a) => [a.accountId, { accessKeyId: a.admin.accessKeyId, secretAccessKey: a.admin.secretAccessKey, userArn: a.admin.userArn }]),
      ),
      stacks: { deployed: [...this.deployed.keys()], skipped: this.skipped },
      regions,
    };
  }

  /** IAM of an account, as `aws iam ...` would change it while the platform runs. */
  iamRoles(accountId: string): IamIdentities {
    const account = this.accounts.find(accountId);
    if (!account) throw new DeployError("UNKNOWN_ACCOUNT", `no stack deployed into account ${accountId} in the local cloud`);
    return account.iam;
  }

  /** The sessions STS issued in an account (function sessions included), for inspection. */
  issuedCredentials(accountId: string): IssuedCredentials[] {
    return this.accounts.find(accountId)?.credentials.all() ?? [];
  }

  /**
   * A DynamoDB client of a region signed by an account's administrator, through the edge: what an
   * operator sees (writes replicate as any client's do). The only account by default.
   */
  dynamodbClient(region: string, accountId = [...this.deployed.values()][0]?.accountId ?? DEFAULT_ACCOUNT_ID): DynamoDBClient {
    const admin = this.accounts.get(accountId).admin;
    const client = new DynamoDBClient({ region, endpoint: this.edgeServer!.url, credentials: { accessKeyId: admin.accessKeyId, secretAccessKey: admin.secretAccessKey } });
    return signOnLocalClock(client, this.clock);
  }

  /** A bucket as S3 holds it (policy, public access block, website), for inspection. */
  s3Bucket(name: string): Bucket {
    return this.s3State.getBucket(name);
  }

  /** Resolves once every log line written so far (access logs, Lambda output) is in its file. */
  async flushLogs(): Promise<void> {
    await Promise.all([...this.regions.values()].map((runtime) => runtime.flushLogs()));
  }

  lambda(region: string): LambdaService {
    return this.regionOf(region).lambda;
  }

  async stop(): Promise<void> {
    await this.route53Plane?.stop();
    await this.xray?.stop();
    await this.dynamo.stop();
    const regions = [...this.regions.values()];
    // Everything that calls the stores stops in every region before any store closes: a function
    // in one region writing a global table must not find the other region's database closed.
    for (const runtime of regions) await runtime.stopCallers();
    for (const runtime of regions) await runtime.stopStores();
    this.regions.clear();
    await this.edgeServer?.stop();
    await this.s3Website?.stop();
    await this.nasa?.stop();
    await this.oidc?.stop();
    await this.idp?.stop();
    await this.control?.stop();
    this.sockets.remove();
  }
}

function createClock(options: LocalCloudOptions, settle: () => Promise<void>): LocalClock {
  if ((options.clock ?? "scaled") === "scaled") {
    if (options.clockStart) throw new DeployError("INVALID_CLOCK", "clockStart sets where a manual clock starts; a scaled clock starts at the real time");
    return new ScaledClock(options.timeScale ?? 1);
  }
  if (options.clock !== "manual") throw new DeployError("INVALID_CLOCK", `the clock is "scaled" or "manual", got ${JSON.stringify(options.clock)}`);
  if (options.timeScale !== undefined && options.timeScale !== 1) throw new DeployError("INVALID_CLOCK", "a manual clock has no time scale: it moves only when told");
  const start = options.clockStart?.getTime() ?? Date.now();
  if (!Number.isFinite(start)) throw new DeployError("INVALID_CLOCK", "clockStart is not a valid date");
  return new ManualClock(start, settle);
}
