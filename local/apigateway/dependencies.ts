// What the API Gateway emulator needs from the rest of the local cloud. Keeping it an interface
// keeps the service apart from how the cloud wires Lambda, IAM and the other emulators.
import type { InvokeResult } from "../lambda/service";
import type { InspectedRequest } from "../wafv2/state";

export interface CallerIdentity {
  accessKeyId: string;
  /** `arn:aws:sts::<account>:assumed-role/<role>/<session>` or an IAM user ARN */
  userArn: string;
  user: string;
  caller: string;
  accountId: string;
}

/** An action of a JSON-protocol service (`arn:aws:apigateway:<region>:<service>:action/<Action>`). */
export interface AwsServiceCall {
  region: string;
  service: string;
  action: string;
  httpMethod: string;
  body: string;
  headers: Record<string, string>;
}

export interface AwsServiceResult {
  status: number;
  headers: Record<string, string>;
  body: string;
}

export type Authorization = { allowed: true } | { allowed: false; reason: string };

/**
 * Time as the gateway reads it (request times, authorizer caching, integration timeouts), so
 * that the local cloud can run the gateway on its own clock.
 */
export interface GatewayClock {
  /** Epoch milliseconds. */
  now(): number;
  /** A timer of `ms`: `elapsed` resolves true when it has run, false once cancelled; it never keeps the process alive. */
  timer(ms: number): { elapsed: Promise<boolean>; cancel(): void };
}

export const REAL_TIME: GatewayClock = {
  now: () => Date.now(),
  timer: (ms) => {
    let cancel!: () => void;
    const elapsed = new Promise<boolean>((resolve) => {
      const timeout = setTimeout(() => resolve(true), ms).unref();
      cancel = () => {
        clearTimeout(timeout);
        resolve(false);
      };
    });
    return { elapsed, cancel };
  },
};

export interface ApiGatewayDependencies {
  invokeLambda(functionArn: string, event: unknown): Promise<InvokeResult>;
  /** Whether the function's resource policy lets API Gateway call it from `sourceArn`. */
  lambdaAllows(functionArn: string, sourceArn: string): Authorization;
  /** Whether API Gateway may assume an integration's role (its trust policy). */
  roleAssumable(roleArn: string): Authorization;
  /** Calls the AWS service as the role (signed with a session of it): the service's IAM decides. */
  callAwsService(call: AwsServiceCall, roleArn: string): Promise<AwsServiceResult>;
  /** SigV4 check of an `AWS_IAM` request, with the credentials STS issued. */
  authenticate(request: {
    method: string;
    path: string;
    query: string;
    headers: Record<string, string | string[] | undefined>;
    body: Buffer;
  }): { ok: true; identity: CallerIdentity } | { ok: false; code: string; message: string };
  /** Whether that caller may `execute-api:Invoke` the method ARN. */
  callerAllows(identity: CallerIdentity, methodArn: string): Authorization;
  writeAccessLog(destinationArn: string, line: string): void;
  /** Whether the region is down (an outage drill): then every request gets 503. */
  regionDown(): boolean;
  /** Publishes one of the stage's metrics (namespace AWS/ApiGateway) in the API's account. */
  publishMetric(accountId: string, metricName: string, dimensions: Record<string, string>, value: number, unit: string): void;
  /**
   * The verdict of the web ACL associated with `resourceArn` (the stage), undefined when none is;
   * `httpSourceId` names the stage in WAF's log (`<account>:<api id>:<stage>`).
   */
  firewall(accountId: string, resourceArn: string, request: InspectedRequest, httpSourceId: string): "ALLOW" | "BLOCK" | undefined;
  /** Real time when absent. */
  clock?: GatewayClock;
}
