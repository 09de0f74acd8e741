// SAML federation (docs/design.md; post "SAML for Your Serverless JavaScript Application: Part II"):
// the IdP posts to POST /saml, ProcessSAML parks STS credentials in SAMLSessions and redirects
// with a 30-second KMS-signed token, the REQUEST authorizer checks it, and a DynamoDB DeleteItem
// proxy on GET /saml hands the credentials over once; GET /users (AWS_IAM) is what they may call.
// Account-global resources (the IAM SAML provider, the ADFS roles, the login site, the audit
// table's replicas) are declared by the primary region only; every region has its functions,
// routes and its own JWT key, whose public key every region trusts.
// Once means once in every region: the assertion-id claims and the parked credentials are
// written and taken in the authority region's tables, by every region, because a global table's
// conditional write decides for its own replica only (replication is late, last writer wins).
// Every region has those two tables, so moving the authority is a config change.
import { Construct } from "constructs";
import { Fn } from "cdktf";
import { ApiGatewayAuthorizer } from "@cdktf/provider-aws/lib/api-gateway-authorizer";
import { DynamodbTable, type DynamodbTableConfig } from "@cdktf/provider-aws/lib/dynamodb-table";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamSamlProvider } from "@cdktf/provider-aws/lib/iam-saml-provider";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { policyDocument, serviceTrustPolicy } from "../iam/policy";
import { NodejsFunction } from "../nodejs-function";
import { BASE_PATH, STAGE_NAME, type IntegrationResponseSpec, type RestApi } from "../rest-api";
import { LoginSite } from "./login-site";
import { MOCK_OK_REQUEST, PICKUP_FAILED, PICKUP_RESPONSE, PROCESS_SAML_REQUEST, USERS_RESPONSE, pickupRequest } from "./templates";

export const SAML_PROVIDER_NAME = "ADFS";
/** The identifier of AD FS's relying party trust for AWS (the sign-in federation metadata's entityID). */
export const AWS_RELYING_PARTY = "urn:amazon:webservices";
/** Construct id of the scope holding what only the primary region declares. */
export const PRIMARY_ONLY_SCOPE = "primary-only";
export const ROLE_NAMES = { production: "ADFS-Production", dev: "ADFS-Dev" } as const;
export const TABLE_NAMES = { sessions: "SAMLSessions", users: "SAMLUsers", assertions: "SAMLAssertions" } as const;
/**
 * The audiences STS accepts in an assertion for AWS federation: the AWS relying party's
 * identifier, which AD FS writes as the Audience (it names the relying party trust), and the
 * sign-in endpoint, which other IdPs write.
 */
export const AWS_SAML_AUDIENCES = [AWS_RELYING_PARTY, "https://signin.aws.amazon.com/saml"];
export const SAML_ROUTES = {
  login: { httpMethod: "POST", path: "/saml" },
  pickup: { httpMethod: "GET", path: "/saml" },
  users: { httpMethod: "GET", path: "/users" },
} as const;
/** A pickup waits this long for the authority region before the page is told to try later. */
const PICKUP_TIMEOUT_MS = 5000;
const PICKUP_HEADERS = ["Authorization", "X-Identity-Id", "X-Relay-Code"];
const SIGV4_HEADERS = ["Authorization", "Content-Type", "X-Amz-Date", "X-Amz-Security-Token", "X-Amz-Content-Sha256"];

export interface SamlFederationProps {
  api: RestApi;
  project: string;
  region: string;
  /** Declares the account-global resources and the tables (with a replica in each other region). */
  isPrimary: boolean;
  regions: string[];
  accountId: string;
  logRetentionDays: number;
  /** The platform's client-facing domain: the IdP posts to https://<domain>/v1/saml. */
  domainName: string;
  idp: { metadata: string; entityId: string; signingCertificates: string; ssoUrl: string };
  roleNameContains: string;
  /** The region whose SAMLAssertions and SAMLSessions tables decide for every region. */
  authorityRegion: string;
  sessionDurationSeconds: { production: number; dev: number };
  loginSiteBucket: string;
  /** Where browsers load the login page: the only CORS origin, and where ProcessSAML redirects. */
  loginSiteOrigin: string;
}

export interface TableRef {
  name: string;
  arn: string;
}

export class SamlFederation extends Construct {
  /** The tables of this region (each region deep-pings its own). */
  readonly tables: TableRef[];
  /** Where the IdP posts: Response Destination, bearer Recipient, and the roles' SAML:aud. */
  readonly acsUrl: string;
  readonly loginPageUrl: string;
  readonly loginSiteOrigin: string;
  readonly processSaml: NodejsFunction;
  readonly authorizer: NodejsFunction;

  constructor(scope: Construct, id: string, props: SamlFederationProps) {
    super(scope, id);
    const { region, accountId } = props;
    this.acsUrl = `https://${props.domainName}/${BASE_PATH}${SAML_ROUTES.login.path}`;
    this.loginSiteOrigin = props.loginSiteOrigin;
    this.loginPageUrl = `${this.loginSiteOrigin}/`;
    const tableArn = (name: string, inRegion = region) => `arn:aws:dynamodb:${inRegion}:${accountId}:table/${name}`;
    const authorityTableArn = (name: string) => tableArn(name, props.authorityRegion);
    this.tables = Object.values(TABLE_NAMES).map((name) => ({ name, arn: tableArn(name) }));
    const providerArn = `arn:aws:iam::${accountId}:saml-provider/${SAML_PROVIDER_NAME}`;
    // Regional tables in every region; only the authority region's are written.
    samlTable(this, "sessions-table", TABLE_NAMES.sessions, "identityhash", { ttl: { attributeName: "expiresAt", enabled: true } });
    samlTable(this, "assertions-table", TABLE_NAMES.assertions, "assertionId", { ttl: { attributeName: "expiresAt", enabled: true } });

    if (props.isPrimary) {
      // Account-global resources, declared once: a scope of their own, so that they are easy to
      // tell apart from what every region has.
      const account = new Construct(this, PRIMARY_ONLY_SCOPE);
      this.auditTable(account, props);
      this.federation(account, props);
      new LoginSite(account, "login-site", {
        bucket: props.loginSiteBucket,
        config: {
          apiUrl: `https://${props.domainName}/${BASE_PATH}`,
          idpSignOnUrl: `${props.idp.ssoUrl}IdpInitiatedSignOn.aspx`,
          relyingPartyId: AWS_RELYING_PARTY,
          region,
        },
      });
    }

    const key = new KmsKey(this, "jwt-key", {
      description: "Signs the 30-second SAML credential pickup tokens (ES256); the private key never leaves KMS",
      customerMasterKeySpec: "ECC_NIST_P256",
      keyUsage: "SIGN_VERIFY",
      deletionWindowInDays: 30,
    });
    const alias = new KmsAlias(this, "jwt-key-alias", { name: `alias/${props.project}-saml-jwt`, targetKeyId: key.keyId });
    const jwt = { JWT_KEY_ID: alias.name, JWT_ISSUER: `urn:${props.project}:saml:process-saml`, JWT_AUDIENCE: `urn:${props.project}:saml:pickup` };
    const common = { region, logRetentionDays: props.logRetentionDays, moduleFormat: "esm" as const };

    this.processSaml = new NodejsFunction(this, "process-saml", {
      ...common,
      functionName: `${props.project}-process-saml`,
      description: "POST /saml: verifies the IdP's SAML response, parks STS credentials, redirects with a pickup token",
      entry: "lambdas/process-saml/index.ts",
      memorySizeMb: 1024,
      timeoutSeconds: 10,
      environment: {
        IDP_ENTITY_ID: props.idp.entityId,
        IDP_SIGNING_CERTIFICATES: props.idp.signingCertificates,
        SAML_AUDIENCES: AWS_SAML_AUDIENCES.join(","),
        ACS_URLS: this.acsUrl,
        SAML_PROVIDER_ARN: providerArn,
        ROLE_NAME_CONTAINS: props.roleNameContains,
        ROLE_SESSION_DURATIONS: Fn.jsonencode({
          [ROLE_NAMES.production]: props.sessionDurationSeconds.production,
          [ROLE_NAMES.dev]: props.sessionDurationSeconds.dev,
        }),
        SESSIONS_TABLE: TABLE_NAMES.sessions,
        USERS_TABLE: TABLE_NAMES.users,
        ASSERTIONS_TABLE: TABLE_NAMES.assertions,
        AUTHORITY_REGION: props.authorityRegion,
        LOGIN_PAGE_URL: this.loginPageUrl,
        ...jwt,
      },
      policyStatements: [
        { sid: "ParkCredentials", actions: ["dynamodb:PutItem", "dynamodb:DeleteItem"], resources: [authorityTableArn(TABLE_NAMES.sessions)] },
        { sid: "ClaimAssertions", actions: ["dynamodb:PutItem"], resources: [authorityTableArn(TABLE_NAMES.assertions)] },
        { sid: "Audit", actions: ["dynamodb:PutItem"], resources: [tableArn(TABLE_NAMES.users)] },
        { sid: "SignPickupTokens", actions: ["kms:Sign", "kms:DescribeKey"], resources: [key.arn] },
      ],
    });

    this.authorizer = new NodejsFunction(this, "saml-authorizer", {
      ...common,
      functionName: `${props.project}-saml-authorizer`,
      description: "REQUEST authorizer of GET /saml: checks the pickup token against the identity id and code",
      entry: "lambdas/saml-authorizer/index.ts",
      memorySizeMb: 512,
      timeoutSeconds: 5,
      environment: { ...jwt, JWT_KEY_REGIONS: props.regions.join(",") },
      policyStatements: [
        {
          sid: "PickupTokenPublicKeys",
          actions: ["kms:GetPublicKey"],
          // The JWT key of every platform region (a login may be picked up in another region):
          // keys of this account behind the JWT alias, wherever they are.
          resources: [`arn:aws:kms:*:${accountId}:key/*`],
          conditions: { "ForAnyValue:StringEquals": { "kms:ResourceAliases": [alias.name] } },
        },
      ],
    });

    this.routes(props);
  }

  /** The audit table: a global table, declared once with a replica in every other region. */
  private auditTable(scope: Construct, props: SamlFederationProps): void {
    const replicas = props.regions.filter((r) => r !== props.region).map((regionName) => ({ regionName, pointInTimeRecovery: true }));
    samlTable(scope, "users-table", TABLE_NAMES.users, "CognitoID", {
      // Global tables replicate through the table's stream.
      streamEnabled: true,
      streamViewType: "NEW_AND_OLD_IMAGES",
      replica: replicas,
    });
  }

  private federation(scope: Construct, props: SamlFederationProps): void {
    const provider = new IamSamlProvider(scope, "idp", { name: SAML_PROVIDER_NAME, samlMetadataDocument: props.idp.metadata });
    const trust = Fn.jsonencode({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Federated: provider.arn },
          Action: "sts:AssumeRoleWithSAML",
          // SAML:aud is the bearer Recipient: only assertions addressed to this platform.
          Condition: { StringEquals: { "SAML:aud": this.acsUrl } },
        },
      ],
    });
    const production = new IamRole(scope, "role-production", {
      name: ROLE_NAMES.production,
      description: "Federated users of the ADFS-Production group: may call GET /users",
      assumeRolePolicy: trust,
      maxSessionDuration: Fn.max([3600, props.sessionDurationSeconds.production]),
    });
    new IamRole(scope, "role-dev", {
      name: ROLE_NAMES.dev,
      description: "Federated users of the ADFS-Dev group: no permissions yet",
      assumeRolePolicy: trust,
      maxSessionDuration: Fn.max([3600, props.sessionDurationSeconds.dev]),
    });
    new IamRolePolicy(scope, "production-invoke-users", {
      name: "invoke-get-users",
      role: production.name,
      policy: policyDocument([
        {
          sid: "GetUsersOnly",
          actions: ["execute-api:Invoke"],
          // Every region's API: only GET /users of stage prod.
          resources: props.regions.map((r) => `arn:aws:execute-api:${r}:${props.accountId}:*/${STAGE_NAME}/${SAML_ROUTES.users.httpMethod}${SAML_ROUTES.users.path}`),
        },
      ]),
    });
  }

  private routes(props: SamlFederationProps): void {
    const { api, region } = props;
    const origin = `'${this.loginSiteOrigin}'`;
    const corsHeader = { "method.response.header.Access-Control-Allow-Origin": origin };

    api.addMethod({
      ...SAML_ROUTES.login,
      integration: {
        type: "AWS",
        integrationHttpMethod: "POST",
        uri: this.processSaml.invokeArn,
        requestTemplates: { "application/x-www-form-urlencoded": PROCESS_SAML_REQUEST },
        // Only the IdP's form: any other content type is refused with 415.
        passthroughBehavior: "NEVER",
        responses: [
          {
            statusCode: "302",
            responseParameters: { "method.response.header.Location": "integration.response.body.location" },
            responseTemplates: { "application/json": "" },
          },
          {
            // The function itself failed (a bug, a timeout): still a redirect the page understands.
            statusCode: "303",
            selectionPattern: ".+",
            responseParameters: { "method.response.header.Location": `'${this.loginPageUrl}#error=internal_error'` },
            responseTemplates: { "application/json": "" },
          },
        ],
      },
    });
    api.allowInvoke("saml-login", this.processSaml.functionName, `${SAML_ROUTES.login.httpMethod}${SAML_ROUTES.login.path}`);

    const authorizer = new ApiGatewayAuthorizer(this, "pickup-authorizer", {
      name: "saml-pickup-token",
      restApiId: api.id,
      type: "REQUEST",
      authorizerUri: this.authorizer.invokeArn,
      identitySource: PICKUP_HEADERS.map((h) => `method.request.header.${h}`).join(","),
      // The token lives 30 s and is good for one pickup: never reuse a decision.
      authorizerResultTtlInSeconds: 0,
    });
    api.serve(authorizer);
    api.allowInvoke("saml-authorizer", this.authorizer.functionName, "*");

    const pickupRole = new IamRole(this, "pickup-role", {
      name: `${props.project}-saml-pickup-${region}`,
      description: "API Gateway's role for GET /saml: DeleteItem on the authority region's SAMLSessions, nothing else",
      assumeRolePolicy: serviceTrustPolicy("apigateway.amazonaws.com"),
    });
    new IamRolePolicy(this, "pickup-role-policy", {
      name: "delete-parked-credentials",
      role: pickupRole.id,
      policy: policyDocument([
        {
          sid: "PickUpOnce",
          actions: ["dynamodb:DeleteItem"],
          resources: [`arn:aws:dynamodb:${props.authorityRegion}:${props.accountId}:table/${TABLE_NAMES.sessions}`],
        },
      ]),
    });
    const withCors = (responses: IntegrationResponseSpec[]) =>
      responses.map((r) => ({ ...r, responseParameters: { ...corsHeader, ...r.responseParameters } }));
    api.addMethod({
      ...SAML_ROUTES.pickup,
      authorization: "CUSTOM",
      authorizerId: authorizer.id,
      requestParameters: Object.fromEntries(PICKUP_HEADERS.map((h) => [`method.request.header.${h}`, true])),
      integration: {
        type: "AWS",
        integrationHttpMethod: "POST",
        // The authority region's table, whichever region serves the pickup: one DeleteItem
        // decides for every region.
        uri: `arn:aws:apigateway:${props.authorityRegion}:dynamodb:action/DeleteItem`,
        timeoutMilliseconds: PICKUP_TIMEOUT_MS,
        credentials: pickupRole.arn,
        requestParameters: { "integration.request.header.Content-Type": "'application/x-amz-json-1.0'" },
        requestTemplates: { "application/json": pickupRequest(TABLE_NAMES.sessions) },
        passthroughBehavior: "WHEN_NO_TEMPLATES",
        responses: withCors([
          { statusCode: "200", responseTemplates: { "application/json": PICKUP_RESPONSE } },
          { statusCode: "503", selectionPattern: "4\\d{2}|5\\d{2}", responseTemplates: { "application/json": PICKUP_FAILED } },
        ]),
      },
    });

    api.addMethod({
      ...SAML_ROUTES.users,
      authorization: "AWS_IAM",
      integration: {
        type: "MOCK",
        requestTemplates: { "application/json": MOCK_OK_REQUEST },
        responses: withCors([{ statusCode: "200", responseTemplates: { "application/json": USERS_RESPONSE } }]),
      },
    });

    // CORS preflights: the login page's origin only.
    for (const [path, methods, headers] of [
      [SAML_ROUTES.pickup.path, "GET", PICKUP_HEADERS],
      [SAML_ROUTES.users.path, "GET", SIGV4_HEADERS],
    ] as const) {
      api.addMethod({
        httpMethod: "OPTIONS",
        path,
        integration: {
          type: "MOCK",
          requestTemplates: { "application/json": MOCK_OK_REQUEST },
          responses: [
            {
              statusCode: "200",
              responseParameters: {
                ...corsHeader,
                "method.response.header.Access-Control-Allow-Methods": `'${methods},OPTIONS'`,
                "method.response.header.Access-Control-Allow-Headers": `'${headers.join(",")}'`,
                "method.response.header.Access-Control-Max-Age": "'600'",
                "method.response.header.Vary": "'Origin'",
              },
              responseTemplates: { "application/json": "" },
            },
          ],
        },
      });
    }
  }
}

/** The SAML tables' common settings: encrypted, point-in-time recovery, never deleted by accident. */
function samlTable(scope: Construct, id: string, name: string, key: string, extra: Partial<DynamodbTableConfig>): DynamodbTable {
  return new DynamodbTable(scope, id, {
    name,
    billingMode: "PAY_PER_REQUEST",
    hashKey: key,
    attribute: [{ name: key, type: "S" }],
    serverSideEncryption: { enabled: true },
    pointInTimeRecovery: { enabled: true },
    deletionProtectionEnabled: true,
    ...extra,
  });
}
