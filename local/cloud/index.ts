// The local cloud: deploys a synthesized app (its `cdk.tf.json` files and Lambda zips, nothing
// else) for one workspace into emulated AWS services on loopback, and serves it.
import { mkdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { evaluate, type PolicyDocument } from "../iam/evaluator";
import type { IamRoles } from "../iam/roles";
import { startS3Server, type RunningS3Server } from "../s3/server";
import { startNasaFixtureServer, type RunningNasaFixture } from "../nasa/server";
import { AWS_RELYING_PARTY, startIdp, type RunningIdp } from "../idp/server";
import { LOCAL_IDP_ENTITY_ID } from "../idp/metadata";
import { LOCAL_OIDC_KEYS_ORIGIN, startOidcIssuer, type RunningOidcIssuer } from "../idp/oidc";
import { HealthCheckers, type HealthCheckStatus } from "../route53/health-checker";
import { startDnsServer, type RunningDnsServer } from "../route53/dns-server";
import { startRoute53Api } from "../route53/api-server";
import { regionOfAddress } from "../route53/client-regions";
import type { RunningHandlerServer } from "../lib/http-handler";
import { startPlatformDomain, type RunningPlatformDomain } from "./platform-domain";
import { S3State } from "../s3/state";
import { startS3Website, type RunningWebsite } from "../s3/website";
import { verifySigV4 } from "../lib/sigv4";
import type { FunctionConfig } from "../lambda/service";
import { ApiGatewayServer } from "../apigateway/server";
import { ApiGatewayState } from "../apigateway/state";
import type { ApiGatewayDependencies } from "../apigateway/dependencies";
import { deployStack, readStackJson, type DeployedStack, type StackToDeploy } from "../deployer/deploy";
import { DeployError, VariableInvalidError } from "../deployer/types";
import { DynamoCoordinator, startDynamoRegion, type RunningDynamoRegion } from "../dynamodb/front";
import { startKinesalite } from "../kinesis/kinesalite";
import type { RunningEmulator } from "../dynamodb/dynalite";
import { KinesisEventSourceMapping, newMappingUuid } from "../lambda/event-source-mapping";
import { kinesisClient } from "../kinesis/resources";
import { LambdaService } from "../lambda/service";
import { Schedules } from "../events/schedules";
import { startSnsServer, type RunningSns } from "../sns/server";
import { startLambdaApi, type RunningLambdaApi } from "../lambda/server";
import { SnsState } from "../sns/state";
import { LogGroups } from "../logs/state";
import { Route53State } from "../route53/state";
import { callService, resourceOfCall } from "./aws-call";
import { PortAllocator } from "./ports";
import { DATA_HANDLERS, RESOURCE_HANDLERS } from "./registry";
import { AccountServices } from "./account";
import type { RegionScopedServices, RegionServices } from "./services";

export interface LocalCloudOptions {
  /** A synthesized app (`cdktf.out`): its manifest and stacks. */
  outdir: string;
  workspace: string;
  /** Where emulators keep data across restarts. */
  dataDir: string;
  /** First port of the range the local cloud listens on; 0 takes free ports. */
  port?: number;
  /** The local cloud's clock runs this many times faster (analytics windows, health checks, TTL). */
  timeScale?: number;
  /** Values for Terraform variables without defaults. */
  variables?: Record<string, unknown>;
  /** The region callers on this machine are nearest to, for latency records (default us-east-1). */
  callerRegion?: string;
  /** Replication lag of global tables, in ms. */
  replicationLagMs?: number;
  log?: (line: string) => void;
}

interface RegionRuntime {
  services: RegionScopedServices;
  mappings: KinesisEventSourceMapping[];
  apiGateway: ApiGatewayServer;
  dynamodb: RunningDynamoRegion;
  kinesis: RunningEmulator;
}

export interface SkippedStack {
  stack: string;
  reason: string;
}

/** The variable whose validation refuses a workspace a stack is not for (stacks/workspace-environment.ts). */
export const WORKSPACE_GUARD_VARIABLE = "workspace_check";

/** Account used when a stack's provider pins none (`allowed_account_ids`). */
export const DEFAULT_ACCOUNT_ID = "000000000000";

interface Manifest {
  stacks: Record<string, { name: string; dependencies: string[]; workingDirectory: string }>;
}

function readStacks(outdir: string): StackToDeploy[] {
  const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as Manifest;
  const stacks = Object.values(manifest.stacks).map((s) => ({ name: s.name, dir: join(outdir, s.workingDirectory), dependencies: s.dependencies }));
  const ordered: StackToDeploy[] = [];
  const visit = (stack: StackToDeploy) => {
    if (ordered.includes(stack)) return;
    for (const d of stack.dependencies) visit(stacks.find((s) => s.name === d)!);
    ordered.push(stack);
  };
  for (const stack of stacks.sort((a, b) => a.name.localeCompare(b.name))) visit(stack);
  return ordered;
}

/** Regions the stacks' AWS providers name (literal strings, as the platform synthesizes them). */
function providerRegion(stack: StackToDeploy): string {
  const region = readStackJson(stack.dir).provider?.aws?.[0]?.region;
  if (typeof region !== "string" || region.includes("${")) {
    throw new DeployError("UNSUPPORTED_PROVIDER", `${stack.name}: the local cloud needs a literal provider region, got ${JSON.stringify(region)}`);
  }
  return region;
}

export class LocalCloud {
  readonly regions = new Map<string, RegionRuntime>();
  readonly deployed = new Map<string, DeployedStack>();
  readonly skipped: SkippedStack[] = [];
  readonly route53 = new Route53State();
  readonly dynamo: DynamoCoordinator;
  private readonly accounts = new Map<string, AccountServices>();
  private readonly s3State: S3State;
  private s3?: RunningS3Server;
  private s3Website?: RunningWebsite;
  /** Route 53's data plane: health checkers, the DNS server, the platform domain as clients reach it. */
  healthCheckers?: HealthCheckers;
  dns?: RunningDnsServer;
  platformDomain?: RunningPlatformDomain;
  /** Route 53's API (REST-XML) over the same records and health checkers. */
  route53Api?: RunningHandlerServer;
  /** The local IdP playing ADFS, when a SAML provider trusts its metadata. */
  idp?: RunningIdp;
  /** Stands in for api.nasa.gov and mars.nasa.gov (the Mars display's upstreams). */
  nasa?: RunningNasaFixture;
  /** The third-party OAuth issuer of the Comments API's tokens (dev config's commentsAuth). */
  oidc?: RunningOidcIssuer;
  private readonly snsStates = new Map<string, SnsState>();
  private sns?: RunningSns;
  private lambdaApi?: RunningLambdaApi;
  private readonly ports: PortAllocator;
  private readonly log: (line: string) => void;
  readonly dataDir: string;

  private constructor(readonly options: LocalCloudOptions) {
    this.log = options.log ?? (() => {});
    this.ports = new PortAllocator(options.port ?? 0);
    this.dataDir = resolve(options.dataDir);
    this.dynamo = new DynamoCoordinator(options.replicationLagMs ?? 200, this.log);
    this.s3State = new S3State({ dataDir: this.dataDir });
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

  get timeScale(): number {
    return this.options.timeScale ?? 1;
  }

  private async boot() {
    mkdirSync(this.dataDir, { recursive: true });
    const stacks = readStacks(this.options.outdir);
    const regions = [...new Set(stacks.map(providerRegion))].sort();
    this.sns = await startSnsServer(this.snsStates, this.ports.next());
    this.lambdaApi = await startLambdaApi((region) => this.regions.get(region)?.services.lambda, this.ports.next());
    this.nasa = await startNasaFixtureServer({ port: this.ports.next() });
    this.oidc = await startOidcIssuer({ port: this.ports.next() });
    this.s3Website = await startS3Website(this.s3State, this.ports.next());
    this.s3 = await startS3Server({
      state: this.s3State,
      credentials: (accessKeyId) => this.accountOfAccessKey(accessKeyId)?.credentials.lookup(accessKeyId),
      authorize: (principal, action, resource) => this.s3Allows(principal.accessKeyId, action, resource),
      port: this.ports.next(),
    });
    for (const region of regions) await this.startRegion(region);
    this.dynamo.startTtlSweeper(Math.max(50, 1000 / this.timeScale), () => this.now() / 1000);

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
            servicesFor: (region, accountId) => this.servicesFor(region, accountId),
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
    await this.startIdentityProvider();
    await this.startRoute53();
    this.route53Api = await startRoute53Api({ state: this.route53, healthCheckers: () => this.healthCheckers, port: this.ports.next() });
    if (this.deployed.size === 0) {
      throw new DeployError("NOTHING_DEPLOYED", `no stack could be deployed in workspace ${this.options.workspace}:\n${this.skipped.map((s) => `  ${s.stack}: ${s.reason}`).join("\n")}`);
    }
  }

  /**
   * The local IdP for a deployed SAML provider whose metadata is the local IdP's. Its relying
   * party endpoint is what the roles trusting the provider require as `SAML:aud`.
   */
  private async startIdentityProvider() {
    for (const account of this.accounts.values()) {
      for (const provider of account.sts.samlProviders()) {
        if (provider.entityId !== LOCAL_IDP_ENTITY_ID) {
          this.log(`idp: SAML provider ${provider.arn} trusts ${provider.entityId}, not the local IdP: no local sign-in for it`);
          continue;
        }
        const acsUrl = account.iam.allRoles().flatMap((role) => samlAudiences(role.trustPolicy, provider.arn))[0];
        if (!acsUrl) continue;
        this.idp = await startIdp({
          port: this.ports.next(),
          // The browser posts to the ACS URL itself, as with ADFS; clients here map it with localUrl().
          relyingParties: [{ identifier: AWS_RELYING_PARTY, acsUrl }],
          aws: { accountId: account.accountId, samlProviderName: provider.name },
        });
        this.log(`idp: ${this.idp.signOnUrl()} signs in to ${acsUrl} for ${provider.arn}`);
        return;
      }
    }
  }

  /**
   * Health checks polled with the local clock, the DNS server answering the hosted zones, and
   * the platform domain (the name of the latency records) served through it.
   */
  private async startRoute53() {
    if (this.route53.records.length === 0) return;
    // The hosted zones exist outside Terraform (they hold the domain): a zone is named after the
    // parent of its shortest record name (api.dev.example.com -> dev.example.com).
    for (const zone of this.route53.zones.values()) {
      const shortest = this.route53.records.filter((r) => r.zoneId === zone.id).sort((a, b) => a.name.length - b.name.length)[0];
      if (!zone.name && shortest) this.route53.ensureZone(zone.id, shortest.name.split(".").slice(1).join("."));
    }
    this.healthCheckers = new HealthCheckers({
      state: this.route53,
      timeScale: this.timeScale,
      resolveTarget: (fqdn, _port, path) => {
        const region = /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com$/.exec(fqdn)?.[1];
        const runtime = region ? this.regions.get(region) : undefined;
        return runtime && `${runtime.apiGateway.url}${path}`;
      },
      onChange: ({ id, healthy }) => this.log(`route53: health check ${id} is now ${healthy ? "healthy" : "unhealthy"}`),
    });
    this.healthCheckers.start();
    this.dns = await startDnsServer({
      state: this.route53,
      isHealthy: (id) => this.healthCheckers!.isHealthy(id),
      callerRegion: (caller) => regionOfAddress(caller.clientSubnet?.address) ?? this.options.callerRegion ?? "us-east-1",
      port: this.ports.next(),
    });
    const domain = this.route53.records.find((r) => r.latencyRegion)?.name;
    if (domain) {
      this.platformDomain = await startPlatformDomain({
        domain,
        dnsServer: this.dns.address,
        gatewayOf: (region) => this.regions.get(region)?.apiGateway.url,
        port: this.ports.next(),
      });
    }
    this.log(`route53: DNS ${this.dns.address}${domain ? `, ${domain} at ${this.platformDomain!.url}` : ""}`);
  }

  /** Where on loopback a public URL of the platform's custom domain is served (the first region that has it). */
  localUrl(publicUrl: string): string | undefined {
    for (const runtime of this.regions.values()) {
      const url = runtime.apiGateway.localUrl(publicUrl);
      if (url) return url;
    }
    return undefined;
  }

  /** The local cloud's clock: real time, `timeScale` times faster since start. */
  private readonly startedAt = Date.now();
  now(): number {
    return this.clockAt(Date.now());
  }

  /** The local cloud's clock at a real time (epoch ms), e.g. when a delivery was recorded. */
  clockAt(realMs: number): number {
    return this.startedAt + (realMs - this.startedAt) * this.timeScale;
  }

  private async accountFor(accountId: string): Promise<AccountServices> {
    let account = this.accounts.get(accountId);
    if (!account) {
      account = await AccountServices.start(accountId, join(this.dataDir, "accounts"), () => this.ports.next());
      this.accounts.set(accountId, account);
    }
    return account;
  }

  private account(accountId: string): AccountServices {
    const account = this.accounts.get(accountId);
    if (!account) throw new DeployError("UNKNOWN_ACCOUNT", `no stack deployed into account ${accountId} in the local cloud`);
    return account;
  }

  private accountOfAccessKey(accessKeyId: string): AccountServices | undefined {
    return [...this.accounts.values()].find((a) => a.credentials.lookup(accessKeyId));
  }

  /** S3 requests: the caller's role policies together with the bucket policy. */
  private s3Allows(accessKeyId: string, action: string, resource: string): boolean {
    const account = this.accountOfAccessKey(accessKeyId);
    const roleArn = account?.sessionRole(accessKeyId);
    if (!account || !roleArn) return false;
    const bucket = resource.slice("arn:aws:s3:::".length).split("/")[0];
    const policy = this.s3State.listBuckets().find((b) => b.name === bucket)?.policy;
    const decision = account.roleDecision(roleArn, action, resource, policy ? [JSON.parse(policy) as PolicyDocument] : []);
    if (decision.decision !== "Allow") this.log(`s3: ${roleArn} denied ${action} on ${resource}: ${decision.reason}`);
    return decision.decision === "Allow";
  }

  private async servicesFor(region: string, accountId: string): Promise<RegionServices> {
    const runtime = this.regions.get(region);
    if (!runtime) throw new DeployError("UNKNOWN_REGION", `region ${region} was not started`);
    // Region services are shared; IAM, STS, KMS and SSM are per account.
    const account = await this.accountFor(accountId);
    return { ...runtime.services, accountId, iam: account.iam, sts: account.sts, kms: account.kms, ssm: account.ssm };
  }

  private async startRegion(region: string) {
    const regionDir = join(this.dataDir, region);
    const dynamodb = await startDynamoRegion({ region, dataDir: join(regionDir, "dynamodb"), port: this.ports.next(), coordinator: this.dynamo });
    const kinesis = await startKinesalite({ port: this.ports.next() });
    const logs = new LogGroups(region, DEFAULT_ACCOUNT_ID, join(regionDir, "logs"));
    const sns = new SnsState({
      region,
      accountId: DEFAULT_ACCOUNT_ID,
      deliveryLog: join(this.dataDir, "sns-deliveries.jsonl"),
      invokeLambda: async (functionArn, event) => {
        const result = await this.regionOfArn(functionArn).services.lambda.invoke(functionArn, event);
        return result.ok ? undefined : `${result.error.errorType}: ${result.error.errorMessage}`;
      },
      onDelivery: (d) => this.log(`sns: ${d.protocol}:${d.endpoint} <- ${d.subject ? `[${d.subject}] ` : ""}${d.message}`),
    });
    this.snsStates.set(region, sns);
    const mappings: KinesisEventSourceMapping[] = [];
    const services: RegionScopedServices = {
      region,
      apigateway: new ApiGatewayState(region),
      lambda: undefined as unknown as LambdaService,
      logs,
      dynamodb: { ...dynamodb, coordinator: this.dynamo },
      kinesis,
      sns,
      events: new Schedules({
        region,
        accountId: DEFAULT_ACCOUNT_ID,
        timeScale: this.timeScale,
        now: () => this.now(),
        invoke: async (functionArn, event, ruleArn) => {
          const lambda = this.regionOfArn(functionArn).services.lambda;
          const permitted = lambda.permits(functionArn, "events.amazonaws.com", ruleArn);
          if (!permitted.allowed) return this.log(`events: ${ruleArn} cannot invoke ${functionArn}: ${permitted.reason}`);
          const result = await lambda.invoke(functionArn, event);
          if (!result.ok) this.log(`events: ${functionArn} failed: ${result.error.errorMessage}`);
        },
      }),
      startKinesisMapping: async (config) => {
        const mapping = new KinesisEventSourceMapping(
          { ...config, uuid: newMappingUuid(), region },
          {
            kinesis: kinesisClient(kinesis.endpoint, region),
            invoke: (functionArn, event) => this.regionOfArn(functionArn).services.lambda.invoke(functionArn, event),
            clock: (realMs) => this.clockAt(realMs),
            log: this.log,
            idlePollMs: Math.max(20, 1000 / this.timeScale),
          },
        );
        if (config.enabled) await mapping.start();
        mappings.push(mapping);
        return mapping.config.uuid;
      },
      route53: this.route53,
      s3: this.s3State,
    };
    services.lambda = new LambdaService({
      dataDir: this.dataDir,
      logs,
      platformEnvironment: (fn) => this.lambdaEnvironment(fn),
      upstreams: { "https://api.nasa.gov": this.nasa!.url, "https://mars.nasa.gov": this.nasa!.url, [LOCAL_OIDC_KEYS_ORIGIN]: this.oidc!.url },
    });
    const apiGateway = new ApiGatewayServer(services.apigateway, this.apiGatewayDependencies(region));
    await apiGateway.start(this.ports.next());
    this.regions.set(region, { services, mappings, apiGateway, dynamodb, kinesis });
    this.log(`start: ${region}: API Gateway ${apiGateway.url}, DynamoDB ${dynamodb.endpoint}, Kinesis ${kinesis.endpoint}`);
  }

  /**
   * What every Lambda environment gets: the emulators of its region and account as AWS SDK
   * endpoints, and a session of its execution role, so that IAM decides what it may do.
   */
  private lambdaEnvironment(fn: FunctionConfig): Record<string, string> {
    const runtime = this.regions.get(fn.region)!;
    const account = this.account(fn.accountId);
    const session = account.functionCredentials(fn.arn, fn.roleArn);
    const perAccount = Object.fromEntries(Object.entries(account.endpoints()).map(([service, url]) => [`AWS_ENDPOINT_URL_${service.toUpperCase()}`, url]));
    return {
      AWS_ENDPOINT_URL_DYNAMODB: runtime.dynamodb.endpoint,
      AWS_ENDPOINT_URL_KINESIS: runtime.kinesis.endpoint,
      AWS_ENDPOINT_URL_SNS: this.sns!.endpoint,
      AWS_ENDPOINT_URL_S3: this.s3!.endpoint,
      ...perAccount,
      AWS_ACCESS_KEY_ID: session.accessKeyId,
      AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
      AWS_SESSION_TOKEN: session.sessionToken,
    };
  }

  private endpointOf(region: string, service: string): string | undefined {
    const runtime = this.regions.get(region);
    if (!runtime) return undefined;
    if (service === "dynamodb") return runtime.dynamodb.endpoint;
    if (service === "kinesis") return runtime.kinesis.endpoint;
    if (service === "sns") return this.sns?.endpoint;
    return undefined;
  }

  private regionOfArn(arn: string): RegionRuntime {
    const region = arn.split(":")[3];
    const runtime = this.regions.get(region);
    if (!runtime) throw new DeployError("UNKNOWN_REGION", `no region ${region} in the local cloud (from ${arn})`);
    return runtime;
  }

  private apiGatewayDependencies(region: string): ApiGatewayDependencies {
    const services = () => this.regions.get(region)!.services;
    return {
      invokeLambda: (functionArn, event) => this.regionOfArn(functionArn).services.lambda.invoke(functionArn, event),
      lambdaAllows: (functionArn, sourceArn) => this.regionOfArn(functionArn).services.lambda.permits(functionArn, "apigateway.amazonaws.com", sourceArn),
      roleAllows: (roleArn, action, resource) => {
        const account = this.accounts.get(roleArn.split(":")[4]);
        if (!account?.iam.hasRole(roleArn)) return { allowed: false, reason: `role ${roleArn} does not exist` };
        const trust = evaluate(
          { action: "sts:AssumeRole", resource: roleArn, principal: { type: "Service", id: "apigateway.amazonaws.com" } },
          { resourcePolicies: [account.iam.role(roleArn).trustPolicy] },
        );
        if (trust.decision !== "Allow") return { allowed: false, reason: `API Gateway cannot assume ${roleArn}: ${trust.reason}` };
        const decision = account.roleDecision(roleArn, action, resource);
        return decision.decision === "Allow" ? { allowed: true } : { allowed: false, reason: decision.reason };
      },
      resourceOfServiceCall: (call, accountId) => resourceOfCall(call, accountId),
      callAwsService: (call) => callService(call, (service) => this.endpointOf(call.region, service)),
      authenticate: (request) => {
        const accessKeyId = /Credential=([^/]+)\//.exec(String(request.headers.authorization ?? ""))?.[1] ?? "";
        const account = this.accountOfAccessKey(accessKeyId);
        // An unknown key gets SigV4's own answer (missing token, unknown key).
        return account ? account.authenticate(request) : verifySigV4(request, () => undefined) as { ok: false; code: string; message: string };
      },
      callerAllows: (identity, methodArn) => {
        const account = this.accounts.get(identity.accountId);
        const roleArn = account?.sessionRole(identity.accessKeyId);
        if (!account || !roleArn) return { allowed: false, reason: `no session for ${identity.accessKeyId}` };
        const decision = account.roleDecision(roleArn, "execute-api:Invoke", methodArn);
        return decision.decision === "Allow" ? { allowed: true } : { allowed: false, reason: decision.reason };
      },
      writeAccessLog: (destinationArn, line) => services().logs.write(destinationArn, line),
    };
  }

  /** Everything a person or a test needs to reach the running platform. */
  endpoints(): LocalEndpoints {
    const regions: LocalEndpoints["regions"] = {};
    for (const [region, runtime] of this.regions) {
      const apis = [...runtime.services.apigateway.apis.values()];
      const api = apis[0];
      const stage = api ? [...api.stages.keys()][0] : undefined;
      const base = `${runtime.apiGateway.url}${stage ? `/${stage}` : ""}`;
      regions[region] = {
        apiUrl: base,
        healthFunction: runtime.services.lambda.listFunctions().find((f) => f.name.endsWith("-healthcheck"))?.name,
        healthUrl: `${base}/healthcheck`,
        apiId: api?.id,
        gatewayUrl: runtime.apiGateway.url,
        dynamodb: runtime.dynamodb.endpoint,
        kinesis: runtime.kinesis.endpoint,
        logs: join(this.dataDir, region, "logs"),
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
      dns: this.dns ? { address: this.dns.address, healthChecks: this.healthCheckers!.status() } : undefined,
      platformDomain: this.platformDomain ? { name: this.platformDomain.domain, httpUrl: this.platformDomain.url } : undefined,
      idp: this.idp ? { url: this.idp.url, signOnUrl: this.idp.signOnUrl(), metadataUrl: this.idp.metadataUrl, users: this.idp.users } : undefined,
      websites: Object.fromEntries(this.s3State.listBuckets().filter((b) => b.website).map((b) => [b.name, `${this.s3Website!.url}/${b.name}/`])),
      timeScale: this.timeScale,
      sns: { deliveries: `${this.sns?.endpoint}/deliveries`, log: join(this.dataDir, "sns-deliveries.jsonl") },
      services: {
        lambda: this.lambdaApi!.endpoint,
        sns: this.sns!.endpoint,
        s3: this.s3!.endpoint,
        ...(this.route53Api ? { route53: this.route53Api.endpoint } : {}),
        ...Object.assign({}, ...[...this.accounts.values()].map((a) => a.endpoints())),
      },
      stacks: { deployed: [...this.deployed.keys()], skipped: this.skipped },
      regions,
    };
  }

  /** IAM of an account, as `aws iam ...` would change it while the platform runs. */
  iamRoles(accountId: string): IamRoles {
    return this.account(accountId).iam;
  }

  /** A client on a region's DynamoDB, for inspecting data. */
  dynamodbClient(region: string) {
    const runtime = this.regions.get(region);
    if (!runtime) throw new DeployError("UNKNOWN_REGION", `no region ${region} in the local cloud`);
    return runtime.dynamodb.client;
  }

  lambda(region: string): LambdaService {
    const runtime = this.regions.get(region);
    if (!runtime) throw new DeployError("UNKNOWN_REGION", `no region ${region} in the local cloud`);
    return runtime.services.lambda;
  }

  async stop(): Promise<void> {
    await this.route53Api?.stop();
    await this.healthCheckers?.stop();
    await this.platformDomain?.stop();
    await this.dns?.stop();
    this.dynamo.stop();
    const regions = [...this.regions.values()];
    // Everything that calls the stores stops in every region before any store closes: a function
    // in one region writing a global table must not find the other region's database closed.
    for (const runtime of regions) {
      runtime.services.events.stop();
      await Promise.all(runtime.mappings.map((m) => m.stop()));
      await runtime.apiGateway.stop();
    }
    await Promise.all(regions.map((runtime) => runtime.services.lambda?.stop()));
    for (const runtime of regions) {
      await runtime.services.logs.close();
      await runtime.kinesis.stop();
      await runtime.dynamodb.stop();
    }
    this.regions.clear();
    await Promise.all([...this.accounts.values()].map((a) => a.stop()));
    await this.s3?.stop();
    await this.s3Website?.stop();
    await this.nasa?.stop();
    await this.oidc?.stop();
    await this.idp?.stop();
    await this.sns?.stop();
    await this.lambdaApi?.stop();
  }
}

export interface LocalEndpoints {
  workspace: string;
  dataDir: string;
  timeScale: number;
  stacks: { deployed: string[]; skipped: SkippedStack[] };
  sns: { deliveries: string; log: string };
  /** What `npm run display:test` and the simulated PyPortal use. */
  mars?: { url: string; apiKey: string };
  /** S3 website buckets (the SAML login page) by bucket name. */
  websites: Record<string, string>;
  /** The local Route 53 DNS server (`host:port`) and its health checks' state. */
  dns?: { address: string; healthChecks: HealthCheckStatus[] };
  /** The platform domain, and where on loopback it is served (through the DNS answers). */
  platformDomain?: { name: string; httpUrl: string };
  /** The local IdP (ADFS stand-in): where a SAML login starts, and its test users. */
  idp?: { url: string; signOnUrl: string; metadataUrl: string; users: { username: string; password: string; groups: string[] }[] };
  /** The NASA fixture standing in for api.nasa.gov and mars.nasa.gov. */
  nasa?: { url: string };
  /** The OAuth issuer standing in for the Comments API's third-party IdP: client-credentials tokens at tokenUrl. */
  oidc?: { issuer: string; url: string; discoveryUrl: string; jwksUrl: string; tokenUrl: string; clients: { clientId: string; clientSecret: string; scopes: string[] }[] };
  /** AWS API endpoints of global emulators (`--endpoint-url` for the AWS CLI and SDKs). */
  services: Record<string, string>;
  regions: Record<
    string,
    { apiUrl: string; healthUrl: string; healthFunction?: string; apiId?: string; gatewayUrl: string; dynamodb: string; kinesis: string; logs: string }
  >;
}

/** The `SAML:aud` values a trust policy requires of sessions federated through a provider. */
function samlAudiences(trustPolicy: PolicyDocument, providerArn: string): string[] {
  const statements = Array.isArray(trustPolicy.Statement) ? trustPolicy.Statement : [trustPolicy.Statement];
  return statements
    .filter((st) => st.Effect === "Allow" && typeof st.Principal === "object" && [st.Principal.Federated ?? []].flat().includes(providerArn))
    .flatMap((st) => [st.Condition?.StringEquals?.["SAML:aud"] ?? []].flat().map(String));
}
