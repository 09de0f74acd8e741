// The account-wide services of the local cloud (IAM, STS, KMS, SSM) and the credentials of the
// principals acting in the account: the Lambda functions (a session of their execution role, as
// Lambda gives them) and the sessions STS hands out. IAM decisions use local/iam/evaluator.
import { join } from "node:path";
import type { CallerIdentity } from "../apigateway/dependencies";
import { evaluate, type EvaluationResult, type PolicyDocument } from "../iam/evaluator";
import { IamRoles } from "../iam/roles";
import { startKmsServer } from "../kms/server";
import { KmsState } from "../kms/state";
import type { RunningJsonServer } from "../lib/json-protocol";
import { verifySigV4, type SignedRequest } from "../lib/sigv4";
import { startSsmServer } from "../ssm/server";
import { SsmState } from "../ssm/state";
import { CredentialRegistry, type IssuedCredentials } from "../sts/credentials";
import { startStsServer } from "../sts/server";
import { StsState, type TrustEvaluator } from "../sts/state";

/** Lambda renews its execution-role session well before it expires; so do we. */
const FUNCTION_SESSION_SECONDS = 12 * 3600;
const RENEW_BEFORE_MS = 3600_000;

export class AccountServices {
  readonly iam: IamRoles;
  readonly credentials: CredentialRegistry;
  readonly kms: KmsState;
  readonly ssm: SsmState;
  readonly sts: StsState;
  private readonly functionSessions = new Map<string, IssuedCredentials>();
  private servers: { kms: RunningJsonServer; ssm: RunningJsonServer; sts: RunningJsonServer } | undefined;

  private constructor(readonly accountId: string, dataDir: string) {
    this.iam = new IamRoles(accountId);
    this.credentials = new CredentialRegistry({ dataDir });
    this.kms = new KmsState({ accountId, dataDir });
    this.ssm = new SsmState(accountId);
    this.sts = new StsState({ accountId, roles: this.iam, evaluate: evaluate as TrustEvaluator, credentials: this.credentials });
  }

  static async start(accountId: string, dataDir: string, nextPort: () => number): Promise<AccountServices> {
    const account = new AccountServices(accountId, join(dataDir, accountId));
    account.servers = {
      kms: await startKmsServer({ state: account.kms, port: nextPort() }),
      ssm: await startSsmServer({ state: account.ssm, credentials: account.credentials.lookup, port: nextPort() }),
      sts: await startStsServer({ state: account.sts, port: nextPort() }),
    };
    return account;
  }

  /** `AWS_ENDPOINT_URL_<SERVICE>` for the SDKs in the account's functions. */
  endpoints(): Record<string, string> {
    if (!this.servers) return {};
    return { kms: this.servers.kms.endpoint, ssm: this.servers.ssm.endpoint, sts: this.servers.sts.endpoint };
  }

  /** The credentials a function runs with: a session of its execution role. */
  functionCredentials(functionArn: string, roleArn: string): IssuedCredentials {
    const current = this.functionSessions.get(functionArn);
    if (current && current.roleArn === roleArn && current.expiresAt.getTime() - Date.now() > RENEW_BEFORE_MS) return current;
    const roleName = roleArn.split("/").pop() ?? roleArn;
    const session = this.credentials.issue({
      roleArn,
      assumedRoleArn: `arn:aws:sts::${this.accountId}:assumed-role/${roleName}/${functionArn.split(":").pop()}`,
      durationSeconds: FUNCTION_SESSION_SECONDS,
    });
    this.functionSessions.set(functionArn, session);
    return session;
  }

  /** SigV4 check against the sessions of this account; the identity API Gateway puts in `$context.identity`. */
  authenticate(request: SignedRequest): { ok: true; identity: CallerIdentity } | { ok: false; code: string; message: string } {
    const verified = verifySigV4(request, this.credentials.lookup);
    if (!verified.ok) return verified;
    const session = this.credentials.lookup(verified.accessKeyId)!;
    const [, , , , , resource] = session.assumedRoleArn.split(":");
    const [, roleName, sessionName] = resource.split("/");
    return {
      ok: true,
      identity: {
        accessKeyId: verified.accessKeyId,
        userArn: session.assumedRoleArn,
        user: `${roleName}:${sessionName}`,
        caller: `${roleName}:${sessionName}`,
        accountId: this.accountId,
      },
    };
  }

  /** Whether the role behind a session (or the role itself) may act, with an optional resource policy. */
  roleDecision(roleArn: string, action: string, resource: string, resourcePolicies: PolicyDocument[] = []): EvaluationResult {
    if (!this.iam.hasRole(roleArn)) return { decision: "ImplicitDeny", reason: `role ${roleArn} does not exist` };
    return evaluate({ action, resource, principal: { type: "AWS", id: roleArn } }, { identityPolicies: this.iam.identityPolicies(roleArn), resourcePolicies });
  }

  sessionRole(accessKeyId: string): string | undefined {
    return this.credentials.lookup(accessKeyId)?.roleArn;
  }

  async stop(): Promise<void> {
    if (!this.servers) return;
    await Promise.all(Object.values(this.servers).map((s) => s.stop()));
    this.servers = undefined;
  }
}
