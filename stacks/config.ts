// Loads config/environments.json and refuses to synthesize anything from a config that does not
// match config/environments.schema.json, naming the field and the rule that failed.
import { readFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Ajv, type ErrorObject } from "ajv";
import { readIdpMetadata } from "../modules/saml-federation/metadata";
import { REFUSAL_REASONS } from "../lambdas/lib/saml/refusal";
import type { Thresholds } from "../modules/monitoring";

export interface Environment {
  accountId: string;
  deployRoleArn: string;
  domainName: string;
  hostedZone: { id: string; name: string };
  alerts: { email: string[]; sms: string[] };
  features: { legacyKinesisAnalytics: boolean };
  api: ApiSettings;
  waf: WafSettings;
  logRetentionDays: number;
  lambda: { applicationLogLevel: "TRACE" | "DEBUG" | "INFO" | "WARN" | "ERROR" | "FATAL"; systemLogLevel: "DEBUG" | "INFO" | "WARN" };
  monitoring: MonitoringSettings;
  saml: SamlSettings;
  mars: MarsSettings;
  commentsAuth: { issuer: string; jwksUrl: string; audience: string };
  clickstream: { inputStream: { mode: "PROVISIONED"; shards: number } | { mode: "ON_DEMAND" } };
}

export interface ApiSettings {
  /** The stage default, applied to each method. */
  throttleRateLimit: number;
  throttleBurstLimit: number;
  /** By method path (`comments/POST`): limits that replace the stage default for that method. */
  methodThrottles: Record<string, { rateLimit: number; burstLimit: number }>;
  canary: { enabled: boolean; percentTraffic: number; stageVariableOverrides: Record<string, string> };
}

/** The stage's web ACL (modules/waf). */
export interface WafSettings {
  /** Requests per client IP within the evaluation window. */
  rateLimit: number;
  evaluationWindowSeconds: 60 | 120 | 300 | 600;
  managedCommonRuleSet: boolean;
}

/** Alarm thresholds of each region: the monitoring module's, with the per-reason SAML thresholds as a map. */
export type MonitoringSettings = Omit<Thresholds, "saml"> & { saml: { refusals: number; refusalsByReason: Record<string, number> } };

/** The Mars weather display backend (modules/mars-display). */
export interface MarsSettings {
  photosApiUrl: string;
  weather: { source: "msl-rems" | "insight"; url: string };
  usagePlan: { rateLimit: number; burstLimit: number; quotaLimit: number; quotaPeriod: "DAY" | "WEEK" | "MONTH" };
  reservedConcurrency: number;
}

export interface SamlSettings {
  idpMetadataFile: string;
  roleNameContains: string;
  /** The region whose tables hold the assertion claims and the parked credentials for every region. */
  authorityRegion: string;
  sessionDurationSeconds: { production: number; dev: number };
  loginSiteBucket: string;
  loginSiteOrigin: string;
  /** Filled in at load time from idpMetadataFile: the document and what is pinned from it. */
  idpMetadata: string;
  idpEntityId: string;
  /** Comma-separated base64 DER certificates. */
  idpSigningCertificates: string;
  idpSsoUrl: string;
}

/** The management account and the HIPAA OU's guardrails (stacks/org-guardrails.ts). */
export interface OrganizationSettings {
  managementAccountId: string;
  deployRoleArn: string;
  /** The organization's id (o-...), imported by the org-guardrails stack. */
  id: string;
  /** Every policy type enabled on the root (authoritative: Terraform disables the others). */
  enabledPolicyTypes: string[];
  workspace: string;
  /** Existing accounts moved into the OU, by environment (the account id comes from there). */
  hipaaAccounts: { environment: string; name: string; email: string }[];
  allowedLambdaRuntimes: string[];
  fullAwsAccess: "attached" | "adopt" | "detached";
}

export interface PlatformConfig {
  project: string;
  primaryRegion: string;
  regions: string[];
  stateBackend: { bucket: string; region: string; keyPrefix: string; roleArn?: string };
  organization: OrganizationSettings;
  environments: Record<string, Environment>;
}

export const CONFIG_PATH = fileURLToPath(new URL("../config/environments.json", import.meta.url));
const SCHEMA_PATH = fileURLToPath(new URL("../config/environments.schema.json", import.meta.url));

export class ConfigError extends Error {
  readonly code = "CONFIG_INVALID";
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source} is not a valid platform config:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}

let compiledValidator: ReturnType<Ajv["compile"]> | undefined;
function validator() {
  compiledValidator ??= new Ajv({ allErrors: true, strict: true }).compile(
    JSON.parse(readFileSync(SCHEMA_PATH, "utf8")),
  );
  return compiledValidator;
}

/** `/environments/dev/accountId` -> `environments.dev.accountId` */
function fieldName(error: ErrorObject): string {
  const path = error.instancePath
    .split("/")
    .slice(1)
    .map((part) => part.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (error.keyword === "additionalProperties") path.push(String(error.params.additionalProperty));
  if (error.keyword === "required") path.push(String(error.params.missingProperty));
  if (error.keyword === "propertyNames") path.push(String(error.params.propertyName));
  return path.join(".") || "(top level)";
}

function describe(error: ErrorObject): string {
  switch (error.keyword) {
    case "additionalProperties":
      return `${fieldName(error)}: is not a known field (rule: additionalProperties)`;
    case "required":
      return `${fieldName(error)}: is required (rule: required)`;
    case "enum":
      return `${fieldName(error)}: must be one of ${JSON.stringify(error.params.allowedValues)} (rule: enum)`;
    case "propertyNames":
      return `${fieldName(error)}: is not an allowed name (rule: propertyNames)`;
    default:
      return `${fieldName(error)}: ${error.message} (rule: ${error.keyword})`;
  }
}

/** Facts the schema cannot express: they relate two fields to each other. */
function crossFieldProblems(config: PlatformConfig): string[] {
  const problems: string[] = [];
  if (!config.regions.includes(config.primaryRegion)) {
    problems.push(`primaryRegion: "${config.primaryRegion}" is not one of regions ${JSON.stringify(config.regions)} (rule: primaryRegionInRegions)`);
  }
  const accountOf = (arn: string) => arn.split(":")[4];
  if (accountOf(config.organization.deployRoleArn) !== config.organization.managementAccountId) {
    problems.push(`organization.deployRoleArn: must be a role in managementAccountId ${config.organization.managementAccountId} (rule: roleInAccount)`);
  }
  if (!(config.organization.workspace in config.environments)) {
    problems.push(`organization.workspace: "${config.organization.workspace}" is not one of the environments ${JSON.stringify(Object.keys(config.environments))} (rule: workspaceIsEnvironment)`);
  }
  for (const [i, account] of config.organization.hipaaAccounts.entries()) {
    if (!(account.environment in config.environments)) {
      problems.push(`organization.hipaaAccounts.${i}.environment: "${account.environment}" is not one of the environments ${JSON.stringify(Object.keys(config.environments))} (rule: accountIsEnvironment)`);
    }
  }
  for (const [name, env] of Object.entries(config.environments)) {
    if (accountOf(env.deployRoleArn) !== env.accountId) {
      problems.push(`environments.${name}.deployRoleArn: must be a role in accountId ${env.accountId} (rule: roleInAccount)`);
    }
    if (!config.regions.includes(env.saml.authorityRegion)) {
      problems.push(`environments.${name}.saml.authorityRegion: "${env.saml.authorityRegion}" is not one of regions ${JSON.stringify(config.regions)} (rule: authorityInRegions)`);
    }
    const { datapointsToAlarm, evaluationPeriods, saml } = env.monitoring;
    if (datapointsToAlarm > evaluationPeriods) {
      problems.push(`environments.${name}.monitoring.datapointsToAlarm: ${datapointsToAlarm} is more than evaluationPeriods ${evaluationPeriods} (rule: datapointsWithinPeriods)`);
    }
    for (const reason of Object.keys(saml.refusalsByReason)) {
      if (!(REFUSAL_REASONS as readonly string[]).includes(reason)) {
        problems.push(`environments.${name}.monitoring.saml.refusalsByReason.${reason}: not a reason ProcessSAML refuses a login for (${REFUSAL_REASONS.join(", ")}) (rule: knownRefusalReason)`);
      }
    }
    if (env.domainName !== env.hostedZone.name && !env.domainName.endsWith(`.${env.hostedZone.name}`)) {
      problems.push(`environments.${name}.domainName: "${env.domainName}" is not inside hostedZone.name "${env.hostedZone.name}" (rule: domainInZone)`);
    }
  }
  return problems;
}

/** Reads each environment's IdP metadata file (relative to `baseDir`) and pins what it names. */
function loadIdpMetadata(config: PlatformConfig, baseDir: string): string[] {
  const problems: string[] = [];
  for (const [name, env] of Object.entries(config.environments)) {
    const field = `environments.${name}.saml.idpMetadataFile`;
    try {
      const xml = readFileSync(resolve(baseDir, env.saml.idpMetadataFile), "utf8");
      const trust = readIdpMetadata(xml, env.saml.idpMetadataFile);
      Object.assign(env.saml, { idpMetadata: xml, idpEntityId: trust.entityId, idpSigningCertificates: trust.signingCertificates.join(","), idpSsoUrl: trust.ssoUrl });
    } catch (error) {
      problems.push(`${field}: ${(error as Error).message} (rule: idpMetadata)`);
    }
  }
  return problems;
}

/**
 * Validates a parsed config; `source` names it in error messages, `baseDir` is where relative
 * file names in it (IdP metadata) are read from.
 */
export function parseConfig(value: unknown, source = "config", baseDir = dirname(CONFIG_PATH)): PlatformConfig {
  const validate = validator();
  if (!validate(value)) throw new ConfigError(source, (validate.errors ?? []).map(describe));
  // A copy: the metadata fields are added to it, and the caller's value stays valid config.
  const config = structuredClone(value) as PlatformConfig;
  const problems = [...crossFieldProblems(config), ...loadIdpMetadata(config, baseDir)];
  if (problems.length > 0) throw new ConfigError(source, problems);
  return config;
}

/** Reads the config file: $PLATFORM_CONFIG if set, else config/environments.json. */
export function loadConfig(path = process.env.PLATFORM_CONFIG || CONFIG_PATH): PlatformConfig {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(path, [`cannot be read: ${(error as Error).message}`]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(path, [`is not JSON: ${(error as Error).message}`]);
  }
  return parseConfig(value, path, dirname(path));
}
