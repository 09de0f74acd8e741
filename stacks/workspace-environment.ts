// The Terraform workspace selects the environment: every environment of the config is
// synthesized into a map, and `local.environment` is the entry named by `terraform.workspace`.
// A workspace that names no environment (also `default`) fails `terraform plan` with a message
// that names it, before the provider or any resource is evaluated.
import { Construct } from "constructs";
import { Fn, TerraformLocal, TerraformVariable, Token, propertyAccess, ref, type IResolvable } from "cdktf";
import type { Environment, MonitoringSettings as Monitoring } from "./config";

type EnvironmentPath =
  | [keyof Environment]
  | ["hostedZone", keyof Environment["hostedZone"]]
  | ["alerts", keyof Environment["alerts"]]
  | ["features", keyof Environment["features"]]
  | ["api", keyof Environment["api"]]
  | ["api", "canary", keyof Environment["api"]["canary"]]
  | ["waf", keyof Environment["waf"]]
  | ["lambda", keyof Environment["lambda"]]
  | ["monitoring", "periodSeconds" | "evaluationPeriods" | "datapointsToAlarm"]
  | ["monitoring", "api", keyof Monitoring["api"]]
  | ["monitoring", "lambda", keyof Monitoring["lambda"]]
  | ["monitoring", "dynamodb", keyof Monitoring["dynamodb"]]
  | ["monitoring", "kinesis", keyof Monitoring["kinesis"]]
  | ["monitoring", "saml", keyof Monitoring["saml"]]
  | ["monitoring", "anomalies", keyof Monitoring["anomalies"]]
  | ["saml", Exclude<keyof Environment["saml"], "sessionDurationSeconds">]
  | ["saml", "sessionDurationSeconds", keyof Environment["saml"]["sessionDurationSeconds"]]
  | ["commentsAuth", keyof Environment["commentsAuth"]]
  | ["mars", "photosApiUrl"]
  | ["mars", "reservedConcurrency"]
  | ["mars", "weather", keyof Environment["mars"]["weather"]]
  | ["mars", "usagePlan", keyof Environment["mars"]["usagePlan"]]
  | ["clickstream", "inputStream", "mode"];

export class WorkspaceEnvironment extends Construct {
  private readonly selected: TerraformLocal;

  /** `environments`: the environments this stack may be deployed to, keyed by workspace name. */
  constructor(scope: Construct, id: string, stackName: string, environments: Record<string, Environment>) {
    super(scope, id);
    const all = new TerraformLocal(this, "environments", environments);
    all.overrideLogicalId("environments");

    // Terraform only allows a validation rule to test its own variable, so the rule reads
    // `var.workspace_check` to be accepted; its value never changes what is selected.
    const check = new TerraformVariable(this, "workspace_check", {
      type: "bool",
      default: true,
      description:
        "Guards the workspace -> environment lookup. Leave it at its default: the validation fails plan in a workspace that config/environments.json does not define.",
      validation: [
        {
          condition: `\${var.workspace_check && contains(keys(local.environments), terraform.workspace)}`,
          errorMessage: `Terraform workspace "\${terraform.workspace}" is not an environment of stack ${stackName}: it is deployed in the workspaces \${join(", ", keys(local.environments))} (config/environments.json). Run terraform workspace select <one of them>.`,
        },
      ],
    });
    check.overrideLogicalId("workspace_check");

    // Referencing the variable makes Terraform validate it before anything reads the environment.
    this.selected = new TerraformLocal(
      this,
      "environment",
      `\${var.workspace_check ? local.environments[terraform.workspace] : null}`,
    );
    this.selected.overrideLogicalId("environment");
  }

  /** The name of the selected environment, as Terraform sees it. */
  get name(): string {
    return Token.asString(ref("terraform.workspace"));
  }

  string(...path: EnvironmentPath): string {
    return Token.asString(this.access(path));
  }

  number(...path: EnvironmentPath): number {
    return Token.asNumber(this.access(path));
  }

  list(...path: EnvironmentPath): string[] {
    return Token.asList(this.access(path));
  }

  /** A number only some environments set (null where they do not), e.g. the shards of a PROVISIONED stream. */
  optionalNumber(path: ["clickstream", "inputStream"], key: "shards"): number {
    // cdktf's Fn.lookup drops a null default (it renders a plain attribute access, which fails
    // plan where the attribute is missing); ref("null") renders Terraform's null.
    return Token.asNumber(Fn.lookup(this.access(path), key, ref("null")));
  }

  /** A switch such as features.legacyKinesisAnalytics, for Fn.conditional. */
  boolean(...path: EnvironmentPath): IResolvable {
    return this.access(path);
  }

  /** A map such as api.methodThrottles, for TerraformIterator.fromMap. */
  map(...path: EnvironmentPath): IResolvable {
    return this.access(path);
  }

  private access(path: string[]) {
    return propertyAccess(ref("local.environment"), path);
  }
}
