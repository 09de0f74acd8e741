// The request pipeline on its own clock: an integration timeout is measured on the clock the
// gateway is given (the local cloud's, or here a manual one), so it is tested without waiting and
// without racing a real Lambda.
import { describe, expect, it } from "vitest";
import type { ApiGatewayDependencies, GatewayClock } from "../local/apigateway/dependencies";
import { StageEndpoint, UsagePlanEnforcer, type ApiRequest } from "../local/apigateway/pipeline";
import { MethodThrottles } from "../local/apigateway/throttle";
import { ApiGatewayState } from "../local/apigateway/state";
import type { InvokeResult } from "../local/lambda/service";

const FUNCTION_ARN = "arn:aws:lambda:us-east-1:000000000000:function:slow";

/** Time that moves only when the test moves it. */
class ManualClock implements GatewayClock {
  private time = 0;
  private readonly timers: { at: number; resolve: (elapsed: boolean) => void }[] = [];

  now(): number {
    return this.time;
  }

  timer(ms: number) {
    let cancel!: () => void;
    const elapsed = new Promise<boolean>((resolve) => {
      this.timers.push({ at: this.time + ms, resolve });
      cancel = () => resolve(false);
    });
    return { elapsed, cancel };
  }

  advance(ms: number): void {
    this.time += ms;
    for (const timer of this.timers.filter((t) => t.at <= this.time)) timer.resolve(true);
  }
}

/**
 * A stage with GET /slow, a Lambda proxy integration with the default 29 s timeout (far beyond a
 * test's time: only the manual clock can make it pass), whose function answers when the test says.
 */
function slowStage() {
  const state = new ApiGatewayState("us-east-1");
  const api = state.createRestApi({ id: "api1", accountId: "000000000000", rootResourceId: "root1", name: "api" });
  state.createResource("api1", { id: "slow1", parentId: "root1", pathPart: "slow" });
  state.putMethod("api1", { httpMethod: "GET", resourceId: "slow1", authorizationType: "NONE", apiKeyRequired: false, requestParameters: {}, requestModels: {} });
  state.putIntegration("api1", "slow1", "GET", {
    type: "AWS_PROXY",
    uri: `arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${FUNCTION_ARN}/invocations`,
    requestTemplates: {},
    requestParameters: {},
    passthroughBehavior: "WHEN_NO_MATCH",
    timeoutMs: 29_000,
  });
  state.createDeployment("api1", "dep1");
  state.createStage("api1", { name: "prod", deploymentId: "dep1", variables: {}, tracingEnabled: false, methodSettings: new Map() });

  const clock = new ManualClock();
  let answer!: (result: InvokeResult) => void;
  let started!: () => void;
  const invoked = new Promise<void>((resolve) => (started = resolve));
  const deps: Partial<ApiGatewayDependencies> = {
    clock,
    lambdaAllows: () => ({ allowed: true }),
    invokeLambda: () => {
      started();
      return new Promise<InvokeResult>((resolve) => (answer = resolve));
    },
    writeAccessLog: () => {},
    publishMetric: () => {},
    firewall: () => undefined,
  };
  const stage = api.stages.get("prod")!;
  const route = { throttles: new MethodThrottles(stage.methodSettings, () => clock.now()), canary: false };
  const endpoint = new StageEndpoint(state, api, stage, api.deployments.get("dep1")!, deps as ApiGatewayDependencies, new UsagePlanEnforcer(state), route);
  const request: ApiRequest = {
    httpMethod: "GET",
    path: "/slow",
    requestPath: "/prod/slow",
    rawQuery: "",
    headers: {},
    multiValueHeaders: {},
    body: Buffer.alloc(0),
    sourceIp: "127.0.0.1",
    domainName: "localhost",
    protocol: "HTTP/1.1",
  };
  return { clock, invoked, answer: (result: InvokeResult) => answer(result), handle: () => endpoint.handle(request) };
}

describe("integration timeout on the gateway's clock", () => {
  it("a Lambda that has not answered when the timeout passes on the clock: 504 Endpoint request timed out", async () => {
    const stage = slowStage();
    let settled = false;
    const response = stage.handle().finally(() => (settled = true));
    await stage.invoked;
    stage.clock.advance(28_999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    stage.clock.advance(1);
    const answered = await response;
    expect(answered.status).toBe(504);
    expect(JSON.parse(answered.body.toString())).toEqual({ message: "Endpoint request timed out" });
  });

  it("a Lambda that answers before the timeout passes: its answer", async () => {
    const stage = slowStage();
    const response = stage.handle();
    await stage.invoked;
    stage.clock.advance(28_999);
    stage.answer({ ok: true, requestId: "r1", payload: JSON.stringify({ statusCode: 200, body: "in time" }), durationMs: 28_999 });
    const answered = await response;
    expect(answered.status).toBe(200);
    expect(answered.body.toString()).toBe("in time");
  });
});
