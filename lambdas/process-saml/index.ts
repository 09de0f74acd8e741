// POST /saml: the IdP's POST binding lands here (through a mapping template that passes the raw
// form body). A verified SAML response becomes short-term credentials parked in SAMLSessions
// for one pickup, and the browser goes back to the login page with a 30-second pickup token:
// 302 Location <site>#token=<jwt>. Any failure: 302 <site>#error=<reason>, an audit row, and
// nothing stored. The handler never throws for bad input, so API Gateway always answers 302.
import { randomUUID } from "node:crypto";
import { ConditionalCheckFailedException, DeleteItemCommand, DynamoDBClient, PutItemCommand, type PutItemCommandInput } from "@aws-sdk/client-dynamodb";
import { KMSClient } from "@aws-sdk/client-kms";
import { AssumeRoleWithSAMLCommand, STSClient } from "@aws-sdk/client-sts";
import { METRICS } from "../lib/metric-names";
import { countEvent, instrumented, logger, traced } from "../lib/observability";
import { env, envJson, envList } from "../lib/saml/config";
import { sha256Hex, signPickupToken } from "../lib/saml/jwt";
import { SamlRefusal } from "../lib/saml/refusal";
import { SamlResponseValidator, type VerifiedAssertion } from "../lib/saml/response-validator";
import { loadSamlSchemas } from "../lib/saml/schema-validator";

/** What the integration's mapping template sends (see modules/saml-federation). */
export interface ProcessSamlEvent {
  /** The POSTed form body, base64 ($util.base64Encode($input.body)). */
  body: string;
  sourceIp?: string;
  /** base64 of the User-Agent header. */
  userAgent?: string;
  requestId?: string;
}

/** The integration response maps `location` to the Location header of a 302. */
export interface ProcessSamlResult {
  location: string;
}

export const ROLE_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/Role";
const SESSION_DURATION_ATTRIBUTE = "https://aws.amazon.com/SAML/Attributes/SessionDuration";
/** The form is a few KB; API Gateway would accept 10 MB. */
export const MAX_FORM_BYTES = 100 * 1024;
/** How long parked credentials wait for their pickup before TTL removes them. */
const SESSION_PARK_SECONDS = 300;
const DEFAULT_SESSION_SECONDS = 3600;
/** The login page's RelayState: `<identity id (UUID v4)>:<random code>`. */
const RELAY_STATE = /^([0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}):([A-Za-z0-9_-]{22,43})$/;

/** The audit table is this region's replica of a global table. */
const dynamodb = traced(new DynamoDBClient({}));
const sts = traced(new STSClient({}));
const kms = traced(new KMSClient({}));

// Compile the SAML schemas during init, not during the first login.
loadSamlSchemas();

let configured: ReturnType<typeof configure> | undefined;
function configure() {
  return {
    validator: new SamlResponseValidator({
      idpEntityId: env("IDP_ENTITY_ID"),
      idpSigningCertificates: envList("IDP_SIGNING_CERTIFICATES"),
      audiences: envList("SAML_AUDIENCES"),
      acsUrls: envList("ACS_URLS"),
    }),
    samlProviderArn: env("SAML_PROVIDER_ARN"),
    roleNameContains: env("ROLE_NAME_CONTAINS"),
    sessionSeconds: envJson<Record<string, number>>("ROLE_SESSION_DURATIONS"),
    tables: { sessions: env("SESSIONS_TABLE"), users: env("USERS_TABLE"), assertions: env("ASSERTIONS_TABLE") },
    authority: authorityClient(env("AUTHORITY_REGION")),
    jwt: { keyId: env("JWT_KEY_ID"), issuer: env("JWT_ISSUER"), audience: env("JWT_AUDIENCE") },
  };
}

type Config = NonNullable<typeof configured>;

/**
 * The assertion claims and the parked credentials live in the authority region, whichever region
 * this function runs in: there one conditional write decides for the whole deployment. When that
 * region does not answer quickly, the login fails closed (no credentials) instead of hanging.
 */
function authorityClient(region: string) {
  return { region, dynamodb: traced(new DynamoDBClient({ region, maxAttempts: 2, requestHandler: { connectionTimeout: 2000, requestTimeout: 3000 } })) };
}

interface Attempt {
  at: Date;
  region: string;
  sourceIp: string;
  userAgent: string;
  requestId: string;
  identityHash?: string;
  assertion?: VerifiedAssertion;
  roleArn?: string;
}

export const handler = instrumented(async (event: ProcessSamlEvent): Promise<ProcessSamlResult> => {
  const site = env("LOGIN_PAGE_URL");
  const attempt: Attempt = {
    at: new Date(),
    region: process.env.AWS_REGION ?? "unknown",
    sourceIp: String(event?.sourceIp ?? ""),
    userAgent: decodeText(event?.userAgent).slice(0, 512),
    requestId: String(event?.requestId || randomUUID()),
  };
  try {
    configured ??= configure();
    const token = await login(configured, event, attempt);
    return { location: `${site}#token=${token}` };
  } catch (error) {
    const refusal =
      error instanceof SamlRefusal ? error : new SamlRefusal("internal_error", `${(error as Error).name}: ${(error as Error).message}`);
    // A refusal is the login working as designed; an internal error is not.
    if (refusal.code === "internal_error") logger.error("login failed", { reason: refusal.code, detail: refusal.message });
    else logger.info("login refused", { reason: refusal.code, detail: refusal.message });
    countEvent(METRICS.samlLoginRefused, { reason: refusal.code });
    await audit(attempt, "refused", refusal).catch((auditError) => logger.error("the refusal could not be audited", { error: String(auditError) }));
    return { location: `${site}#error=${refusal.code}` };
  }
});

async function login(config: Config, event: ProcessSamlEvent, attempt: Attempt): Promise<string> {
  const form = readForm(event);
  const relay = RELAY_STATE.exec(form.get("RelayState") ?? "");
  if (!relay) throw new SamlRefusal("relay_state_invalid", "RelayState must be <identity id>:<code> as the login page sends it");
  const [, identityId, code] = relay;
  attempt.identityHash = sha256Hex(identityId);

  const assertion = await config.validator.validate(form.get("SAMLResponse") ?? "", attempt.at.getTime());
  attempt.assertion = assertion;
  const { roleArn, principalArn } = chooseRole(config, assertion);
  attempt.roleArn = roleArn;

  await rememberAssertion(config, assertion, attempt);

  const roleName = roleArn.slice(roleArn.lastIndexOf("/") + 1);
  const asserted = Number(assertion.attributes[SESSION_DURATION_ATTRIBUTE]?.[0]);
  const configuredSeconds = config.sessionSeconds[roleName] ?? DEFAULT_SESSION_SECONDS;
  let credentials;
  try {
    ({ Credentials: credentials } = await sts.send(
      new AssumeRoleWithSAMLCommand({
        RoleArn: roleArn,
        PrincipalArn: principalArn,
        SAMLAssertion: form.get("SAMLResponse")!,
        // The IdP may shorten the session, never lengthen it past the role's configured duration.
        DurationSeconds: Number.isInteger(asserted) && asserted >= 900 ? Math.min(asserted, configuredSeconds) : configuredSeconds,
      }),
    ));
  } catch (error) {
    throw new SamlRefusal("sts_refused", `STS refused AssumeRoleWithSAML: ${(error as Error).name}: ${(error as Error).message}`);
  }
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !credentials.Expiration) {
    throw new SamlRefusal("sts_refused", "STS returned no credentials");
  }

  const token = await signPickupToken(kms, config.jwt.keyId, {
    sub: attempt.identityHash,
    code_hash: sha256Hex(code),
    iss: config.jwt.issuer,
    aud: config.jwt.audience,
  });

  const nowSeconds = Math.floor(attempt.at.getTime() / 1000);
  await putInAuthority(
    config,
    {
      TableName: config.tables.sessions,
      Item: {
        identityhash: { S: attempt.identityHash },
        AccessKeyId: { S: credentials.AccessKeyId },
        SecretAccessKey: { S: credentials.SecretAccessKey },
        SessionToken: { S: credentials.SessionToken },
        Expiration: { S: credentials.Expiration.toISOString() },
        expiresAt: { N: String(nowSeconds + SESSION_PARK_SECONDS) },
      },
      // A login never overwrites another one's parked credentials.
      ConditionExpression: "attribute_not_exists(identityhash)",
    },
    new SamlRefusal("session_conflict", "Credentials are already parked for this identity id: start the login again"),
  );
  // No login without its audit row: if the row cannot be written, the credentials go too.
  try {
    await audit(attempt, "success");
  } catch (error) {
    await config.authority.dynamodb.send(new DeleteItemCommand({ TableName: config.tables.sessions, Key: { identityhash: { S: attempt.identityHash } } }));
    throw error;
  }
  logger.info("login accepted", { user: assertion.nameId, role: roleArn });
  countEvent(METRICS.samlLogins);
  return token;
}

function readForm(event: ProcessSamlEvent): URLSearchParams {
  if (typeof event?.body !== "string" || event.body === "") throw new SamlRefusal("request_malformed", "The request has no form body");
  if ((event.body.length / 4) * 3 > MAX_FORM_BYTES + 3) throw new SamlRefusal("request_too_large", `The form is larger than ${MAX_FORM_BYTES} bytes`);
  const form = new URLSearchParams(decodeText(event.body));
  if (!form.get("SAMLResponse")) throw new SamlRefusal("request_malformed", "The form has no SAMLResponse field");
  return form;
}

function decodeText(base64: unknown): string {
  return typeof base64 === "string" ? Buffer.from(base64, "base64").toString("utf8") : "";
}

/**
 * The Role attribute lists `<provider ARN>,<role ARN>` pairs (in either order). Only pairs with
 * this account's SAML provider count; the configured rule picks the role (seed: name contains
 * "Prod").
 */
function chooseRole(config: Config, assertion: VerifiedAssertion) {
  const pairs = (assertion.attributes[ROLE_ATTRIBUTE] ?? []).map((value) => {
    const parts = value.split(",").map((p) => p.trim());
    return {
      roleArn: parts.find((p) => /^arn:aws[\w-]*:iam::\d{12}:role\//.test(p)),
      principalArn: parts.find((p) => /^arn:aws[\w-]*:iam::\d{12}:saml-provider\//.test(p)),
    };
  });
  const chosen = pairs.find(
    (p) => p.roleArn && p.principalArn === config.samlProviderArn && p.roleArn.slice(p.roleArn.lastIndexOf("/") + 1).includes(config.roleNameContains),
  );
  if (!chosen) throw new SamlRefusal("no_mapped_role", `The user has no role whose name contains "${config.roleNameContains}" for this account's IdP`);
  return chosen as { roleArn: string; principalArn: string };
}

/** Replay protection: an assertion id is accepted once, and remembered while it could be accepted. */
async function rememberAssertion(config: Config, assertion: VerifiedAssertion, attempt: Attempt): Promise<void> {
  await putInAuthority(
    config,
    {
      TableName: config.tables.assertions,
      Item: {
        assertionId: { S: assertion.assertionId },
        issuer: { S: assertion.issuer },
        firstSeen: { S: attempt.at.toISOString() },
        expiresAt: { N: String(Math.ceil(assertion.acceptableUntil / 1000)) },
      },
      ConditionExpression: "attribute_not_exists(assertionId)",
    },
    new SamlRefusal("assertion_replayed", "This assertion was used before"),
  );
}

/**
 * A conditional write in the authority region: `taken` when the condition fails; when the region
 * does not answer, the login stops there, before anything is issued or parked.
 */
async function putInAuthority(config: Config, input: PutItemCommandInput, taken: SamlRefusal): Promise<void> {
  try {
    await config.authority.dynamodb.send(new PutItemCommand(input));
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) throw taken;
    throw new SamlRefusal(
      "authority_unavailable",
      `The authority region ${config.authority.region} did not accept the write to ${input.TableName}: ${(error as Error).name}: ${(error as Error).message}`,
    );
  }
}

async function audit(attempt: Attempt, outcome: "success" | "refused", refusal?: SamlRefusal): Promise<void> {
  if (!configured) return;
  const item: Record<string, { S: string }> = {
    // One row per attempt, never overwritten: <identity hash (or -)>/<request id>.
    CognitoID: { S: `${attempt.identityHash ?? "-"}/${attempt.requestId}` },
    outcome: { S: outcome },
    at: { S: attempt.at.toISOString() },
    region: { S: attempt.region },
    sourceIp: { S: attempt.sourceIp },
    userAgent: { S: attempt.userAgent },
    requestId: { S: attempt.requestId },
  };
  if (refusal) Object.assign(item, { reason: { S: refusal.code }, detail: { S: refusal.message.slice(0, 500) } });
  // Only a verified assertion names a user: an unverified one is the attacker's word.
  if (attempt.assertion) Object.assign(item, { user: { S: attempt.assertion.nameId }, assertionId: { S: attempt.assertion.assertionId } });
  if (attempt.roleArn) item.role = { S: attempt.roleArn };
  if (attempt.identityHash) item.identityhash = { S: attempt.identityHash };
  await dynamodb.send(
    new PutItemCommand({ TableName: configured.tables.users, Item: item, ConditionExpression: "attribute_not_exists(CognitoID)" }),
  );
}
