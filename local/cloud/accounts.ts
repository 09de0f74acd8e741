// The accounts of the local cloud and their account-wide services: IAM (roles, users, policies),
// the access keys of the account (STS sessions and users' long-term keys), KMS, SSM and STS.
// Each account has an administrator user (`local-admin`, AdministratorAccess) whose key pair
// endpoints.json lists, and every Lambda function runs with a session of its execution role.
// The edge looks every caller up here, whichever account issued its key.
import { join } from "node:path";
import { evaluate, type EvaluationResult, type PolicyDocument } from "../iam/evaluator";
import { IamIdentities } from "../iam/identities";
import type { PolicySources } from "../iam/authorize";
import { KmsState } from "../kms/state";
import { SsmState } from "../ssm/state";
import { CredentialRegistry, type Caller, type IssuedCredentials, type UserAccessKey } from "../sts/credentials";
import { StsState, type TrustEvaluator } from "../sts/state";
import { verifySigV4, type SignedRequest } from "../lib/sigv4";
import type { CallerIdentity } from "../apigateway/dependencies";

/** Lambda renews its execution-role session well before it expires; so do we. */
const FUNCTION_SESSION_SECONDS = 12 * 3600;
const RENEW_BEFORE_MS = 3600_000;
/** API Gateway assumes an integration's role for each call; a session is reused while it lasts. */
const SERVICE_SESSION_SECONDS = 3600;
export const ADMIN_USER = "local-admin";
export const ADMINISTRATOR_ACCESS = "arn:aws:iam::aws:policy/AdministratorAccess";

export class AccountServices {
  readonly iam: IamIdentities;
  readonly credentials: CredentialRegistry;
  readonly kms: KmsState;
  readonly ssm: SsmState;
  readonly sts: StsState;
  readonly admin: UserAccessKey;
  private readonly sessions = new Map<string, IssuedCredentials>();

  constructor(
    readonly accountId: string,
    dataDir: string,
    /** The local cloud's clock (epoch ms): session expiry, SAML assertion times, key and parameter dates. */
    private readonly now: () => number = Date.now,
  ) {
    const date = () => new Date(now());
    this.iam = new IamIdentities(accountId);
    this.credentials = new CredentialRegistry({ dataDir, now: date });
    this.kms = new KmsState({ accountId, dataDir, now });
    this.ssm = new SsmState(accountId, now);
    this.sts = new StsState({ accountId, roles: this.iam, evaluate: evaluate as TrustEvaluator, credentials: this.credentials, now: date });
    this.admin = this.credentials.userKey(this.iam.createUser(ADMIN_USER, [ADMINISTRATOR_ACCESS]).arn);
  }

  /** The credentials a function runs with: a session of its execution role, as Lambda gives them. */
  functionCredentials(functionArn: string, roleArn: string): IssuedCredentials {
    return this.session(`function ${functionArn}`, roleArn, functionArn.split(":").pop()!, FUNCTION_SESSION_SECONDS);
  }

  /** A session of a role a service (API Gateway, Lambda's event source mappings) acts with. */
  serviceCredentials(service: string, roleArn: string): IssuedCredentials {
    return this.session(`service ${service} ${roleArn}`, roleArn, service, SERVICE_SESSION_SECONDS);
  }

  private session(key: string, roleArn: string, sessionName: string, durationSeconds: number): IssuedCredentials {
    const current = this.sessions.get(key);
    if (current && current.roleArn === roleArn && current.expiresAt.getTime() - this.now() > Math.min(RENEW_BEFORE_MS, (durationSeconds * 1000) / 2)) return current;
    const roleName = roleArn.split("/").pop() ?? roleArn;
    const session = this.credentials.issue({
      roleArn,
      assumedRoleArn: `arn:aws:sts::${this.accountId}:assumed-role/${roleName}/${sessionName.slice(0, 64)}`,
      durationSeconds,
    });
    this.sessions.set(key, session);
    return session;
  }

  /** Whether a service principal may assume a role (its trust policy). */
  serviceMayAssume(service: string, roleArn: string): EvaluationResult {
    if (!this.iam.hasRole(roleArn)) return { decision: "ImplicitDeny", reason: `role ${roleArn} does not exist` };
    return evaluate(
      { action: "sts:AssumeRole", resource: roleArn, principal: { type: "Service", id: service } },
      { resourcePolicies: [this.iam.role(roleArn).trustPolicy], resourcePolicyRequired: true },
    );
  }
}

/** Every account the local cloud has started, and the lookups across them the edge needs. */
export class Accounts implements PolicySources {
  private readonly byId = new Map<string, AccountServices>();

  constructor(
    private readonly dataDir: string,
    /** SCPs of an account once Organizations is emulated; none outside an organization. */
    private readonly scps: (accountId: string) => PolicyDocument[][] = () => [],
    /** The local cloud's clock (epoch ms). */
    private readonly now: () => number = Date.now,
  ) {}

  /** The account, started on first use. */
  get(accountId: string): AccountServices {
    let account = this.byId.get(accountId);
    if (!account) {
      account = new AccountServices(accountId, join(this.dataDir, "accounts", accountId), this.now);
      this.byId.set(accountId, account);
    }
    return account;
  }

  find(accountId: string): AccountServices | undefined {
    return this.byId.get(accountId);
  }

  all(): AccountServices[] {
    return [...this.byId.values()];
  }

  /** For the SigV4 verifier: the secret (and session token, expiry) of a key of any account. */
  lookup = (accessKeyId: string) => {
    for (const account of this.byId.values()) {
      const found = account.credentials.lookup(accessKeyId);
      if (found) return found;
    }
    return undefined;
  };

  callerOf = (accessKeyId: string): Caller | undefined => {
    for (const account of this.byId.values()) {
      const caller = account.credentials.callerOf(accessKeyId);
      if (caller) return caller;
    }
    return undefined;
  };

  identityPolicies(accountId: string, identityArn: string): PolicyDocument[] {
    const account = this.byId.get(accountId);
    if (!account) return [];
    try {
      return account.iam.identityPolicies(identityArn);
    } catch {
      // A role deleted since the session was issued has no policies left.
      return [];
    }
  }

  serviceControlPolicies(accountId: string): PolicyDocument[][] {
    return this.scps(accountId);
  }

  /** SigV4 check of a request to an `AWS_IAM` route; the identity API Gateway puts in `$context.identity`. */
  authenticate(request: SignedRequest): { ok: true; identity: CallerIdentity } | { ok: false; code: string; message: string } {
    const verified = verifySigV4(request, this.lookup, { now: new Date(this.now()) });
    if (!verified.ok) return verified;
    const caller = this.callerOf(verified.accessKeyId)!;
    const session = /^arn:aws:sts::\d{12}:assumed-role\/([^/]+)\/(.+)$/.exec(caller.principalArn);
    const user = session ? `${session[1]}:${session[2]}` : caller.principalArn.split("/").pop()!;
    return { ok: true, identity: { accessKeyId: verified.accessKeyId, userArn: caller.principalArn, user, caller: user, accountId: caller.accountId } };
  }
}
