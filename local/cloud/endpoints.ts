// What `.local/endpoints.json` tells a person or a test about the running local cloud.
import type { HealthCheckStatus } from "../route53/health-checker";

export interface SkippedStack {
  stack: string;
  reason: string;
}

/** The AWS APIs the edge serves; every one of them is at `services.edge`. */
export const EDGE_SERVICES = ["dynamodb", "kinesis", "s3", "sns", "kms", "ssm", "sts", "lambda", "logs", "iam", "organizations", "route53", "monitoring", "wafv2"] as const;

export interface LocalEndpoints {
  workspace: string;
  dataDir: string;
  /** The one clock (GET it; POST `<url>/advance?by=10s` or `<url>/advance-to?at=<instant>` moves a manual one): scripts/lib/clock-client.ts. */
  clock: { url: string; mode: "scaled" | "manual"; timeScale?: number };
  /** The local cloud's own controls (outage drills, SNS deliveries): see local/cloud/control.ts. */
  control: { url: string };
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
  /** The local IdP (AD FS stand-in): where a SAML login starts, and its test users. */
  idp?: { url: string; signOnUrl: string; metadataUrl: string; users: { username: string; password: string; groups: string[] }[] };
  /** The NASA fixture standing in for api.nasa.gov and mars.nasa.gov. */
  nasa?: { url: string };
  /** The OAuth issuer standing in for the Comments API's third-party IdP: client-credentials tokens at tokenUrl. */
  oidc?: { issuer: string; url: string; discoveryUrl: string; jwksUrl: string; tokenUrl: string; clients: { clientId: string; clientSecret: string; scopes: string[] }[] };
  /** AWS API endpoints (`--endpoint-url`, `AWS_ENDPOINT_URL`): `edge` serves every service. */
  services: Record<string, string>;
  /** Per account, the access key of its administrator (user local-admin, AdministratorAccess). */
  credentials: Record<string, { accessKeyId: string; secretAccessKey: string; userArn: string }>;
  regions: Record<
    string,
    /** The account the region's platform stack is deployed in (its key pair is in `credentials`). */
    { accountId: string; apiUrl: string; healthUrl: string; healthFunction?: string; apiId?: string; gatewayUrl: string; dynamodb: string; kinesis: string; logs: string }
  >;
}
