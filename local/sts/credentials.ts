// The access keys of one account: temporary credentials STS issued (role sessions) and the
// long-term keys of its IAM users. The local cloud's SigV4 verifier looks callers up here
// (`lookup` has the shape of local/lib/sigv4's CredentialLookup) and learns who signed a request.
// Persisted under the data directory: credentials parked in DynamoDB, and the administrator keys
// written to endpoints.json, still work after a restart.
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresAt: Date;
  /** The role the session belongs to, e.g. arn:aws:iam::111111111111:role/ADFS-Production */
  roleArn: string;
  /** arn:aws:sts::<account>:assumed-role/<role name>/<session name> */
  assumedRoleArn: string;
}

/** A long-term access key of an IAM user (AKIA...): no session token, no expiry. */
export interface UserAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
  userArn: string;
}

/** Who signed a request, as AWS names them in access-denied messages and GetCallerIdentity. */
export interface Caller {
  accountId: string;
  accessKeyId: string;
  /** The user ARN, or the assumed-role session ARN (`arn:aws:sts::<acct>:assumed-role/<role>/<session>`). */
  principalArn: string;
  /** The IAM identity whose policies apply: the user, or the session's role. */
  identityArn: string;
}

interface Stored extends Omit<IssuedCredentials, "expiresAt"> {
  expiresAt: string;
}

interface StoredFile {
  sessions: Stored[];
  userKeys: UserAccessKey[];
}

const ACCESS_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export class CredentialRegistry {
  private readonly byAccessKey = new Map<string, IssuedCredentials>();
  private readonly userKeys = new Map<string, UserAccessKey>();
  private readonly file?: string;
  private readonly now: () => Date;

  constructor(options: { accountId?: string; dataDir?: string; now?: () => Date } = {}) {
    this.now = options.now ?? (() => new Date());
    if (options.dataDir) {
      this.file = join(options.dataDir, "sts", "credentials.json");
      if (existsSync(this.file)) {
        const stored = JSON.parse(readFileSync(this.file, "utf8")) as StoredFile;
        for (const session of stored.sessions ?? []) this.byAccessKey.set(session.accessKeyId, { ...session, expiresAt: new Date(session.expiresAt) });
        for (const key of stored.userKeys ?? []) this.userKeys.set(key.accessKeyId, key);
      }
    }
  }

  /** The user's access key: the one made before (kept in the data directory), or a new one. */
  userKey(userArn: string): UserAccessKey {
    const existing = [...this.userKeys.values()].find((k) => k.userArn === userArn);
    if (existing) return existing;
    const key: UserAccessKey = { accessKeyId: newAccessKeyId("AKIA"), secretAccessKey: randomBytes(30).toString("base64"), userArn };
    this.userKeys.set(key.accessKeyId, key);
    this.persist();
    return key;
  }

  /** Who owns an access key, or nothing for a key this account did not issue. */
  callerOf(accessKeyId: string): Caller | undefined {
    const user = this.userKeys.get(accessKeyId);
    if (user) return { accountId: user.userArn.split(":")[4], accessKeyId, principalArn: user.userArn, identityArn: user.userArn };
    const session = this.byAccessKey.get(accessKeyId);
    if (session) return { accountId: session.roleArn.split(":")[4], accessKeyId, principalArn: session.assumedRoleArn, identityArn: session.roleArn };
    return undefined;
  }

  issue(input: { roleArn: string; assumedRoleArn: string; durationSeconds: number }): IssuedCredentials {
    const credentials: IssuedCredentials = {
      // ASIA: temporary credentials, as STS issues them.
      accessKeyId: newAccessKeyId("ASIA"),
      secretAccessKey: randomBytes(30).toString("base64"),
      sessionToken: `IQoJb3JpZ2luX2VjE${randomBytes(120).toString("base64")}`,
      expiresAt: new Date(Math.floor(this.now().getTime() / 1000) * 1000 + input.durationSeconds * 1000),
      roleArn: input.roleArn,
      assumedRoleArn: input.assumedRoleArn,
    };
    this.prune();
    this.byAccessKey.set(credentials.accessKeyId, credentials);
    this.persist();
    return credentials;
  }

  /** Every session issued (and not yet pruned), as CloudTrail would list the calls that made them. */
  all(): IssuedCredentials[] {
    return [...this.byAccessKey.values()];
  }

  /** For the SigV4 verifier; expired credentials are returned too, so that it can say ExpiredToken. */
  lookup = (accessKeyId: string): IssuedCredentials | UserAccessKey | undefined => this.byAccessKey.get(accessKeyId) ?? this.userKeys.get(accessKeyId);

  /** A role session by its access key (not a user's key). */
  session(accessKeyId: string): IssuedCredentials | undefined {
    return this.byAccessKey.get(accessKeyId);
  }

  private prune(): void {
    const now = this.now().getTime();
    for (const [key, credentials] of this.byAccessKey) {
      // Kept a day past expiry so that late callers get "expired", not "unknown key".
      if (credentials.expiresAt.getTime() + 86_400_000 < now) this.byAccessKey.delete(key);
    }
  }

  private persist(): void {
    if (!this.file) return;
    mkdirSync(dirname(this.file), { recursive: true });
    const stored: StoredFile = {
      sessions: [...this.byAccessKey.values()].map((c) => ({ ...c, expiresAt: c.expiresAt.toISOString() })),
      userKeys: [...this.userKeys.values()],
    };
    writeFileSync(`${this.file}.tmp`, JSON.stringify(stored), { mode: 0o600 });
    renameSync(`${this.file}.tmp`, this.file);
  }
}

/** AKIA (long-term) or ASIA (temporary) and 16 characters of the key alphabet, as IAM and STS make them. */
function newAccessKeyId(prefix: "AKIA" | "ASIA"): string {
  return `${prefix}${[...randomBytes(16)].map((b) => ACCESS_KEY_ALPHABET[b % 32]).join("")}`;
}
