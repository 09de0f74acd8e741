// The SAML login's AWS side on loopback for handler-level tests: dynalite with the three tables,
// the local KMS (a JWT key per region behind one alias) and STS with the IAM SAML provider from
// the local IdP's metadata behind a test edge (signatures and IAM checked, the handlers signing as
// the account's administrator), IAM roles with the platform's trust policy, and the environment
// the two handlers get in AWS. Each suite gets its own, and stops it.
import { CreateTableCommand, DynamoDBClient, GetItemCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { startDynalite, type RunningEmulator } from "../../local/dynamodb/dynalite";
import { certificateBody, localIdpKey, localIdpMetadataXml, LOCAL_IDP_ENTITY_ID } from "../../local/standins/idp/metadata";
import { kmsApi } from "../../local/kms/api";
import type { KmsState } from "../../local/kms/state";
import { stsApi } from "../../local/sts/api";
import type { CredentialRegistry } from "../../local/sts/credentials";
import { startTestEdge } from "./test-edge";

export const ACCOUNT = "111111111111";
export const REGION = "us-east-1";
export const OTHER_REGION = "us-west-2";
export const ACS_URL = "https://api.dev.example.com/v1/saml";
export const AWS_AUDIENCE = "https://signin.aws.amazon.com/saml";
export const LOGIN_PAGE = "http://login.example.test/";
export const PROVIDER_ARN = `arn:aws:iam::${ACCOUNT}:saml-provider/ADFS`;
export const JWT_ALIAS = "alias/platform-saml-jwt";
export const TABLES = { sessions: "SAMLSessions", users: "SAMLUsers", assertions: "SAMLAssertions" };

/** The trust policy modules/saml-federation gives the ADFS roles. */
export function samlTrustPolicy(): string {
  return JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Effect: "Allow",
        Principal: { Federated: PROVIDER_ARN },
        Action: "sts:AssumeRoleWithSAML",
        Condition: { StringEquals: { "SAML:aud": ACS_URL } },
      },
    ],
  });
}

export interface SamlCloud {
  dynamodb: DynamoDBClient;
  kms: KmsState;
  credentials: CredentialRegistry;
  environment: Record<string, string>;
  item(table: keyof typeof TABLES, key: Record<string, string>): Promise<Record<string, string> | undefined>;
  scan(table: keyof typeof TABLES): Promise<Record<string, string>[]>;
  stop(): Promise<void>;
}

export async function startSamlCloud(): Promise<SamlCloud> {
  const edge = await startTestEdge({
    accountId: ACCOUNT,
    services: (accounts) => ({
      kms: kmsApi((id) => accounts.get(id).kms),
      sts: stsApi((id) => accounts.find(id) && { sts: accounts.get(id).sts, roles: accounts.get(id).iam }),
    }),
  });
  const testCredentials = edge.admin;
  const dynalite: RunningEmulator = await startDynalite();
  const dynamodb = new DynamoDBClient({ region: REGION, endpoint: dynalite.endpoint, credentials: testCredentials });
  const keys: Record<keyof typeof TABLES, string> = { sessions: "identityhash", users: "CognitoID", assertions: "assertionId" };
  for (const [table, key] of Object.entries(keys) as [keyof typeof TABLES, string][]) {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: TABLES[table],
        AttributeDefinitions: [{ AttributeName: key, AttributeType: "S" }],
        KeySchema: [{ AttributeName: key, KeyType: "HASH" }],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
  }

  const { kms, iam, sts, credentials } = edge.account;
  for (const region of [REGION, OTHER_REGION]) {
    const key = kms.createKey(region, { keySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY", description: "SAML pickup tokens" });
    kms.createAlias(region, JWT_ALIAS, key.KeyId);
  }
  for (const name of ["ADFS-Production", "ADFS-Dev"]) iam.createRole({ name, assumeRolePolicy: samlTrustPolicy(), maxSessionDuration: 3600 });
  sts.createSamlProvider("ADFS", localIdpMetadataXml());

  const environment = {
    AWS_REGION: REGION,
    // What modules/nodejs-function gives every function for Powertools.
    POWERTOOLS_SERVICE_NAME: "platform-process-saml",
    POWERTOOLS_METRICS_NAMESPACE: "platform",
    AWS_ACCESS_KEY_ID: testCredentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: testCredentials.secretAccessKey,
    AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
    AWS_ENDPOINT_URL_KMS: edge.url,
    AWS_ENDPOINT_URL_STS: edge.url,
    IDP_ENTITY_ID: LOCAL_IDP_ENTITY_ID,
    IDP_SIGNING_CERTIFICATES: certificateBody(localIdpKey().certificate),
    SAML_AUDIENCES: `urn:amazon:webservices,${AWS_AUDIENCE}`,
    ACS_URLS: ACS_URL,
    SAML_PROVIDER_ARN: PROVIDER_ARN,
    ROLE_NAME_CONTAINS: "Prod",
    ROLE_SESSION_DURATIONS: JSON.stringify({ "ADFS-Production": 3600, "ADFS-Dev": 900 }),
    SESSIONS_TABLE: TABLES.sessions,
    USERS_TABLE: TABLES.users,
    ASSERTIONS_TABLE: TABLES.assertions,
    AUTHORITY_REGION: REGION,
    JWT_KEY_ID: JWT_ALIAS,
    JWT_KEY_REGIONS: `${REGION},${OTHER_REGION}`,
    JWT_ISSUER: "urn:platform:saml:process-saml",
    JWT_AUDIENCE: "urn:platform:saml:pickup",
    LOGIN_PAGE_URL: LOGIN_PAGE,
  };

  const flatten = (item: Record<string, { S?: string; N?: string }> | undefined) =>
    item ? Object.fromEntries(Object.entries(item).map(([k, v]) => [k, v.S ?? v.N ?? ""])) : undefined;
  return {
    dynamodb,
    kms,
    credentials,
    environment,
    async item(table, key) {
      const { Item } = await dynamodb.send(
        new GetItemCommand({ TableName: TABLES[table], Key: Object.fromEntries(Object.entries(key).map(([k, v]) => [k, { S: v }])), ConsistentRead: true }),
      );
      return flatten(Item as never);
    },
    async scan(table) {
      const { Items = [] } = await dynamodb.send(new ScanCommand({ TableName: TABLES[table] }));
      return Items.map((item) => flatten(item as never)!);
    },
    async stop() {
      await Promise.all([dynalite.stop(), edge.stop()]);
    },
  };
}
