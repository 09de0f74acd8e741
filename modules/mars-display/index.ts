// The Mars weather display backend (docs/design.md, Mars display): GET /mars, API key required, behind a usage plan
// with throttle and quota; the FetchMarsData Lambda; a private, encrypted bucket for the BMPs it
// makes (handed out as presigned URLs). The NASA API key is a sensitive Terraform variable that
// goes into an SSM SecureString parameter, which the function reads at cold start: Lambda
// environment variables hold no secrets (they show in the console and in GetFunctionConfiguration).
import { Construct } from "constructs";
import { TerraformVariable } from "cdktf";
import { ApiGatewayApiKey } from "@cdktf/provider-aws/lib/api-gateway-api-key";
import { ApiGatewayUsagePlan } from "@cdktf/provider-aws/lib/api-gateway-usage-plan";
import { ApiGatewayUsagePlanKey } from "@cdktf/provider-aws/lib/api-gateway-usage-plan-key";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { SsmParameter } from "@cdktf/provider-aws/lib/ssm-parameter";
import { NodejsFunction } from "../nodejs-function";
import type { RestApi } from "../rest-api";

export const MARS_ROUTE = { httpMethod: "GET", path: "/mars" } as const;
/** The contract (docs/design.md): the presigned image URL is valid for 15 minutes. */
export const IMAGE_URL_TTL_SECONDS = 900;
/** The Terraform variable that carries the api.nasa.gov key. */
export const NASA_API_KEY_VARIABLE = "nasa_api_key";

export interface MarsDisplayProps {
  api: RestApi;
  project: string;
  region: string;
  /** Bucket names are global: the account id and region make them unique. */
  accountId: string;
  logRetentionDays: number;
  upstream: {
    /** Base URL of the Mars Rover Photos API. */
    photosApiUrl: string;
    /** A weather source kind FetchMarsData knows (`msl-rems`, `insight`). */
    weatherSource: string;
    weatherUrl: string;
  };
  usagePlan: { rateLimit: number; burstLimit: number; quotaLimit: number; quotaPeriod: string };
  /**
   * FetchMarsData's reserved concurrency: at least the usage plan's burst, or a burst the plan
   * admits is throttled by Lambda and answered 500 by API Gateway.
   */
  reservedConcurrency: number;
}

export class MarsDisplay extends Construct {
  readonly bucket: S3Bucket;
  readonly function: NodejsFunction;
  readonly nasaApiKeyParameter: SsmParameter;
  readonly apiKey: ApiGatewayApiKey;
  readonly usagePlan: ApiGatewayUsagePlan;
  /** What the display calls: this region's stage URL of GET /mars (API keys are regional). */
  readonly url: string;
  /** The API key value (sensitive). */
  readonly apiKeyValue: string;

  constructor(scope: Construct, id: string, props: MarsDisplayProps) {
    super(scope, id);
    const { project, region } = props;

    this.bucket = new S3Bucket(this, "images", {
      bucket: `${project}-mars-${props.accountId}-${region}`,
      // It holds a cache (BMPs remade from NASA's photos, the last good answer): nothing to keep.
      forceDestroy: true,
    });
    new S3BucketPublicAccessBlock(this, "images-public-access", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: true,
      restrictPublicBuckets: true,
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "images-encryption", {
      bucket: this.bucket.id,
      // The AWS managed key aws/s3: usable through S3 by the account's principals, so presigned
      // GETs work for whoever may read the object, without a key policy to maintain.
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
    });

    const nasaApiKey = new TerraformVariable(this, NASA_API_KEY_VARIABLE, {
      type: "string",
      sensitive: true,
      // NASA's public demo key (low rate limits) lets plan and a first deploy work; pass your own
      // with TF_VAR_nasa_api_key.
      default: "DEMO_KEY",
      description: "api.nasa.gov key for the Mars Rover Photos API (stored as an SSM SecureString, never in code or Lambda environment)",
      validation: [
        {
          condition: `\${can(regex("^[A-Za-z0-9_-]{1,128}$", var.${NASA_API_KEY_VARIABLE}))}`,
          errorMessage: "nasa_api_key must be 1 to 128 letters, digits, '_' or '-' (an api.nasa.gov key).",
        },
      ],
    });
    nasaApiKey.overrideLogicalId(NASA_API_KEY_VARIABLE);
    this.nasaApiKeyParameter = new SsmParameter(this, "nasa-api-key", {
      name: `/${project}/mars-display/nasa-api-key`,
      description: "api.nasa.gov key of FetchMarsData (from the nasa_api_key Terraform variable)",
      type: "SecureString",
      value: nasaApiKey.stringValue,
    });

    this.function = new NodejsFunction(this, "fetch-mars-data", {
      functionName: `${project}-fetch-mars-data`,
      description: "GET /mars: latest Curiosity photo as a 320x240 BMP (presigned URL) and Mars weather",
      entry: "lambdas/fetch-mars-data/index.ts",
      region,
      logRetentionDays: props.logRetentionDays,
      // API Gateway gives up after 29 s; upstream calls are limited to fit well inside this.
      timeoutSeconds: 25,
      // JPEG decoding and resizing are CPU-bound; Lambda's CPU share grows with memory.
      memorySizeMb: 1024,
      // Bounds what the displays can take of the account's concurrency; the usage plan bounds the
      // calls (and so NASA's per-key rate).
      reservedConcurrency: props.reservedConcurrency,
      environment: {
        MARS_BUCKET: this.bucket.bucket,
        MARS_PHOTOS_API_URL: props.upstream.photosApiUrl,
        MARS_WEATHER_SOURCE: props.upstream.weatherSource,
        MARS_WEATHER_URL: props.upstream.weatherUrl,
        NASA_API_KEY_PARAMETER: this.nasaApiKeyParameter.name,
        MARS_IMAGE_URL_TTL_SECONDS: String(IMAGE_URL_TTL_SECONDS),
        UPSTREAM_TIMEOUT_MS: "8000",
        MARS_PHOTO_LOOKBACK_DAYS: "7",
      },
      policyStatements: [
        {
          sid: "ImagesAndLastGoodAnswer",
          actions: ["s3:GetObject", "s3:PutObject"],
          resources: [`${this.bucket.arn}/images/*`, `${this.bucket.arn}/state/*`],
        },
        // Without it S3 answers 403 instead of 404 for an image not made yet.
        { sid: "TellMissingImages", actions: ["s3:ListBucket"], resources: [this.bucket.arn] },
        { sid: "NasaApiKey", actions: ["ssm:GetParameter"], resources: [this.nasaApiKeyParameter.arn] },
      ],
    });

    props.api.addLambdaProxy({ ...MARS_ROUTE, apiKeyRequired: true }, this.function);

    this.apiKey = new ApiGatewayApiKey(this, "api-key", {
      name: `${project}-mars-display-${region}`,
      description: "Key of the Mars weather displays (secrets.py mars_api_key)",
      enabled: true,
    });
    this.usagePlan = new ApiGatewayUsagePlan(this, "usage-plan", {
      name: `${project}-mars-display`,
      description: "Mars weather displays: throttle and quota per key",
      apiStages: [{ apiId: props.api.id, stage: props.api.stage.stageName }],
      throttleSettings: { rateLimit: props.usagePlan.rateLimit, burstLimit: props.usagePlan.burstLimit },
      quotaSettings: { limit: props.usagePlan.quotaLimit, period: props.usagePlan.quotaPeriod },
    });
    new ApiGatewayUsagePlanKey(this, "usage-plan-key", {
      keyId: this.apiKey.id,
      keyType: "API_KEY",
      usagePlanId: this.usagePlan.id,
    });

    this.url = `${props.api.invokeUrl}${MARS_ROUTE.path}`;
    this.apiKeyValue = this.apiKey.value;
  }
}
