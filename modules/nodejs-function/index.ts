// A Lambda function from a TypeScript handler in lambdas/: deterministic esbuild bundle, its own
// least-privilege role, a log group with retention created before the function (so Lambda never
// creates one without retention), nodejs22.x on arm64, active X-Ray tracing, JSON logs with the
// stack's log levels, and Powertools' service name and metrics namespace in its environment.
import { Construct, type IConstruct } from "constructs";
import { join } from "node:path";
import { App, AssetType, TerraformAsset } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LambdaFunction } from "@cdktf/provider-aws/lib/lambda-function";
import { policyDocument, serviceTrustPolicy, type PolicyStatement } from "../iam/policy";
import { bundleLambda, type LambdaBundle, type ModuleFormat } from "./bundle";

export const LAMBDA_RUNTIME = "nodejs22.x";
/** Every function's default timeout, as Terraform's (and Lambda's) 3 s is too short for a cold SDK client. */
export const DEFAULT_TIMEOUT_SECONDS = 10;
export const LAMBDA_ARCHITECTURE = "arm64";

export interface NodejsFunctionProps {
  /** Function name, unique in the account and region. */
  functionName: string;
  /** Handler source relative to the repository root, e.g. `lambdas/hello/index.ts`. */
  entry: string;
  /** Exported function to call; default `handler`. */
  handlerExport?: string;
  description?: string;
  /** Region of the stack: IAM role names are global, so the role name carries it. */
  region: string;
  logRetentionDays: number;
  /** Plain configuration only: never secrets (they would be readable in the console and state). */
  environment?: Record<string, string>;
  timeoutSeconds?: number;
  memorySizeMb?: number;
  /** Cap on concurrent executions, where the function protects a downstream. */
  reservedConcurrency?: number;
  /** Bundle as CommonJS (default) or as an ES module (for dependencies with top-level await). */
  moduleFormat?: ModuleFormat;
  /** What the function may do besides writing its own logs and traces. */
  policyStatements?: PolicyStatement[];
}

/** What every function of a stack shares, set once on the stack (setLambdaDefaults). */
export interface LambdaDefaults {
  /** Lambda's application log level (JSON format): less severe lines are dropped, lines without a level count as INFO. */
  applicationLogLevel: string;
  systemLogLevel: string;
  /** Powertools Metrics' namespace (EMF). */
  metricsNamespace: string;
}

const defaultsOf = new WeakMap<IConstruct, LambdaDefaults>();

/** Sets the log levels and metrics namespace of every NodejsFunction created below `scope`. */
export function setLambdaDefaults(scope: Construct, defaults: LambdaDefaults): void {
  defaultsOf.set(scope, defaults);
}

/** The defaults of the nearest scope that has them. */
function lambdaDefaults(scope: Construct): LambdaDefaults {
  const defaults = scope.node.scopes.reverse().map((s) => defaultsOf.get(s)).find(Boolean);
  if (!defaults) throw new Error(`${scope.node.path}: no Lambda defaults: call setLambdaDefaults on the stack before creating functions`);
  return defaults;
}

export class NodejsFunction extends Construct {
  readonly functionName: string;
  readonly arn: string;
  readonly invokeArn: string;
  readonly roleArn: string;
  readonly roleName: string;
  readonly logGroupName: string;
  readonly bundle: LambdaBundle;
  readonly function: LambdaFunction;
  readonly timeoutSeconds: number;
  /** Powertools' service: the `service` of its log lines and the dimension of its metrics (the function's name). */
  readonly serviceName: string;

  constructor(scope: Construct, id: string, props: NodejsFunctionProps) {
    super(scope, id);
    const defaults = lambdaDefaults(this);
    this.timeoutSeconds = props.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS;
    this.serviceName = props.functionName;
    this.bundle = bundleLambda(props.entry, join(App.of(this).outdir, ".bundles"), props.moduleFormat);
    const asset = new TerraformAsset(this, "code", {
      path: this.bundle.zipPath,
      type: AssetType.FILE,
      assetHash: this.bundle.sha256Hex,
    });

    const logGroup = new CloudwatchLogGroup(this, "logs", {
      name: `/aws/lambda/${props.functionName}`,
      retentionInDays: props.logRetentionDays,
    });

    const role = new IamRole(this, "role", {
      name: roleName(props.functionName, props.region),
      description: `Execution role of Lambda ${props.functionName}`,
      assumeRolePolicy: serviceTrustPolicy("lambda.amazonaws.com"),
    });
    new IamRolePolicy(this, "policy", {
      name: "least-privilege",
      role: role.id,
      policy: policyDocument([
        {
          sid: "OwnLogs",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`${logGroup.arn}:*`],
        },
        {
          sid: "Tracing",
          actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
          resources: ["*"],
        },
        ...(props.policyStatements ?? []),
      ]),
    });

    this.function = new LambdaFunction(this, "function", {
      functionName: props.functionName,
      description: props.description,
      role: role.arn,
      runtime: LAMBDA_RUNTIME,
      architectures: [LAMBDA_ARCHITECTURE],
      handler: `index.${props.handlerExport ?? "handler"}`,
      filename: asset.path,
      sourceCodeHash: this.bundle.sha256Base64,
      timeout: this.timeoutSeconds,
      memorySize: props.memorySizeMb ?? 256,
      reservedConcurrentExecutions: props.reservedConcurrency,
      tracingConfig: { mode: "Active" },
      loggingConfig: {
        logFormat: "JSON",
        logGroup: logGroup.name,
        applicationLogLevel: defaults.applicationLogLevel,
        systemLogLevel: defaults.systemLogLevel,
      },
      environment: {
        variables: {
          NODE_OPTIONS: "--enable-source-maps",
          // Powertools: the service in every log line and metric, the namespace of the metrics.
          POWERTOOLS_SERVICE_NAME: this.serviceName,
          POWERTOOLS_METRICS_NAMESPACE: defaults.metricsNamespace,
          ...(props.environment ?? {}),
        },
      },
      dependsOn: [logGroup],
    });

    this.functionName = this.function.functionName;
    this.arn = this.function.arn;
    this.invokeArn = this.function.invokeArn;
    this.roleArn = role.arn;
    this.roleName = role.name;
    this.logGroupName = logGroup.name;
  }
}

/** IAM role names are at most 64 characters and global to the account. */
function roleName(functionName: string, region: string): string {
  const name = `${functionName}-${region}`;
  if (name.length > 64) throw new Error(`IAM role name "${name}" is longer than 64 characters; shorten the function name`);
  return name;
}
