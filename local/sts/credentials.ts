// Temporary credentials STS issued: the local cloud's SigV4 verifier looks callers up here
// (`lookup` has the shape of local/lib/sigv4's CredentialLookup) and learns which role session
// signed a request. Persisted under the data directory: credentials parked in DynamoDB before a
// restart still work after it.
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

interface Stored extends Omit<IssuedCredentials, "expiresAt"> {
  expiresAt: string;
}

const ACCESS_KEY_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export class CredentialRegistry {
  private readonly byAccessKey = new Map<string, IssuedCredentials>();
  private readonly file?: string;
  private readonly now: () => Date;

  constructor(options: { dataDir?: string; now?: () => Date } = {}) {
    this.now = options.now ?? (() => new Date());
    if (options.dataDir) {
      this.file = join(options.dataDir, "sts", "credentials.json");
      if (existsSync(this.file)) {
        for (const stored of JSON.parse(readFileSync(this.file, "utf8")) as Stored[]) {
          this.byAccessKey.set(stored.accessKeyId, { ...stored, expiresAt: new Date(stored.expiresAt) });
        }
      }
    }
  }

  issue(input: { roleArn: string; assumedRoleArn: string; durationSeconds: number }): IssuedCredentials {
    const random = randomBytes(16);
    const credentials: IssuedCredentials = {
      // ASIA: temporary credentials, as STS issues them.
      accessKeyId: `ASIA${[...random].map((b) => ACCESS_KEY_ALPHABET[b % 32]).join("")}`,
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
  lookup = (accessKeyId: string): IssuedCredentials | undefined => this.byAccessKey.get(accessKeyId);

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
    const stored: Stored[] = [...this.byAccessKey.values()].map((c) => ({ ...c, expiresAt: c.expiresAt.toISOString() }));
    writeFileSync(`${this.file}.tmp`, JSON.stringify(stored), { mode: 0o600 });
    renameSync(`${this.file}.tmp`, this.file);
  }
}
