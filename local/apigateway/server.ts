// The data plane of one region's API Gateway on loopback. A stage with a canary sends its
// percentTraffic of the requests (chosen at random, as API Gateway does) to the canary's deployment.
// A request reaches a stage by
//  - a custom domain name in the Host header and its base path mapping (`/v1/...`),
//  - the execute-api host `<api id>.execute-api.<region>.<anything>` and the stage in the path,
//  - `/restapis/<api id>/<stage>/_user_request_/...` (any host), or
//  - the stage in the path when the region has a single API (plain `http://127.0.0.1:<port>/prod/...`).
import { serveHttp, type HttpRequest, type HttpResponse, type RunningHttpServer } from "../lib/http-serve";
import { LOOPBACK } from "../lib/listen";
import { REGION_DOWN_MESSAGE } from "../lib/outages";
import { REAL_TIME, type ApiGatewayDependencies } from "./dependencies";
import { GatewayFailure } from "./gateway-responses";
import { MAX_PAYLOAD_BYTES, StageEndpoint, UsagePlanEnforcer, type ApiRequest, type ApiResponse } from "./pipeline";
import { MethodThrottles } from "./throttle";
import type { ApiGatewayState, RestApi } from "./state";

interface Resolved {
  api: RestApi;
  stageName: string;
  /** Path below the stage or base path. */
  path: string;
}

export class ApiGatewayServer {
  private server?: RunningHttpServer;
  private readonly endpoints = new Map<string, StageEndpoint>();
  /** By `<api id>/<stage>`: shared by the stage's deployment and its canary's. */
  private readonly throttles = new Map<string, MethodThrottles>();
  private readonly usage: UsagePlanEnforcer;
  port = 0;

  constructor(
    readonly state: ApiGatewayState,
    private readonly deps: ApiGatewayDependencies,
    /** [0, 1): which requests go to a canary. */
    private readonly random: () => number = Math.random,
  ) {
    const clock = deps.clock ?? REAL_TIME;
    this.usage = new UsagePlanEnforcer(state, () => clock.now());
  }

  async start(port = 0): Promise<number> {
    this.server = await serveHttp((request) => this.onRequest(request), {
      name: `apigateway ${this.state.region}`,
      port,
      maxBodyBytes: MAX_PAYLOAD_BYTES,
      now: () => (this.deps.clock ?? REAL_TIME).now(),
      // A bug answers as API Gateway answers an internal failure.
      onError: () => ({ status: 500, headers: { "content-type": "application/json", "x-amzn-ErrorType": "InternalServerErrorException" }, body: '{"message": "Internal server error"}' }),
    });
    this.port = this.server.port;
    return this.port;
  }

  stop(): Promise<void> {
    return this.server ? this.server.stop() : Promise.resolve();
  }

  get url(): string {
    return `http://${LOOPBACK}:${this.port}`;
  }

  /** Deployments and stages can change while running (a redeploy); endpoints follow them. */
  endpoint(api: RestApi, stageName: string): StageEndpoint | undefined {
    const stage = api.stages.get(stageName);
    if (!stage) return undefined;
    const canary = stage.canary !== undefined && this.random() * 100 < stage.canary.percentTraffic;
    const deploymentId = canary ? stage.canary!.deploymentId : stage.deploymentId;
    const key = `${api.id}/${stage.name}/${deploymentId}/${canary}`;
    let endpoint = this.endpoints.get(key);
    if (!endpoint) {
      const snapshot = api.deployments.get(deploymentId);
      if (!snapshot) return undefined;
      let throttles = this.throttles.get(`${api.id}/${stage.name}`);
      if (!throttles) this.throttles.set(`${api.id}/${stage.name}`, (throttles = new MethodThrottles(stage.methodSettings, () => (this.deps.clock ?? REAL_TIME).now())));
      endpoint = new StageEndpoint(this.state, api, stage, snapshot, this.deps, this.usage, { throttles, canary });
      this.endpoints.set(key, endpoint);
    }
    return endpoint;
  }

  /**
   * The loopback URL that reaches what a public URL of a custom domain names
   * (`https://api.dev.example.com/v1/saml` -> `http://127.0.0.1:<port>/restapis/<id>/prod/_user_request_/saml`).
   */
  localUrl(publicUrl: string): string | undefined {
    const url = new URL(publicUrl);
    if (!this.state.domainNames.has(url.hostname)) return undefined;
    const resolved = this.resolve(url.hostname, url.pathname);
    return resolved && `${this.url}/restapis/${resolved.api.id}/${resolved.stageName}/_user_request_${resolved.path}${url.search}`;
  }

  private resolve(host: string, path: string): Resolved | undefined {
    const domain = this.state.domainNames.get(host);
    if (domain) {
      const [first = "", ...rest] = path.split("/").slice(1);
      const mapping = domain.basePaths.get(first) ?? domain.basePaths.get("");
      if (!mapping) return undefined;
      const below = domain.basePaths.has(first) ? `/${rest.join("/")}` : path;
      const api = this.state.apis.get(mapping.apiId);
      return api ? { api, stageName: mapping.stage, path: below } : undefined;
    }
    const restapis = /^\/restapis\/([^/]+)\/([^/]+)\/_user_request_(\/.*)?$/.exec(path);
    if (restapis) {
      const api = this.state.apis.get(restapis[1]);
      return api ? { api, stageName: restapis[2], path: restapis[3] ?? "/" } : undefined;
    }
    const executeApi = /^([a-z0-9]+)\.execute-api\./.exec(host);
    const api = executeApi ? this.state.apis.get(executeApi[1]) : this.state.apis.size === 1 ? [...this.state.apis.values()][0] : undefined;
    if (!api) return undefined;
    const [stageName = "", ...rest] = path.split("/").slice(1);
    return { api, stageName, path: `/${rest.join("/")}` };
  }

  private async onRequest(req: HttpRequest): Promise<HttpResponse> {
    const path = req.rawPath;
    const host = String(req.headers.host ?? "").replace(/:\d+$/, "").toLowerCase();
    const headers: Record<string, string> = {};
    const multiValueHeaders: Record<string, string[]> = {};
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const name = req.rawHeaders[i];
      headers[name] = req.rawHeaders[i + 1];
      (multiValueHeaders[name] ??= []).push(req.rawHeaders[i + 1]);
    }
    const request: ApiRequest = {
      httpMethod: req.method,
      path: "/",
      requestPath: path,
      rawQuery: req.rawQuery,
      headers,
      multiValueHeaders,
      body: req.body,
      sourceIp: req.remoteAddress,
      domainName: host,
      protocol: `HTTP/${req.httpVersion}`,
      tooLarge: req.bodyTooLarge,
    };

    let response: ApiResponse;
    const resolved = this.resolve(host, path);
    const endpoint = resolved && this.endpoint(resolved.api, resolved.stageName);
    if (this.deps.regionDown()) {
      response = { status: 503, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify({ message: REGION_DOWN_MESSAGE })) };
    } else if (!resolved || !endpoint) {
      // No API or stage answers at this address: API Gateway's answer for any unknown route.
      response = { status: 403, headers: { "content-type": "application/json", "x-amzn-ErrorType": "ForbiddenException" }, body: Buffer.from('{"message":"Forbidden"}') };
    } else {
      request.path = resolved.path;
      try {
        response = await endpoint.handle(request);
      } catch (error) {
        const failure = new GatewayFailure("API_CONFIGURATION_ERROR", undefined, { phase: "integration", error: (error as Error).message });
        response = { status: 500, headers: { "content-type": "application/json" }, body: Buffer.from(JSON.stringify({ message: failure.message })) };
      }
    }
    return response;
  }
}
