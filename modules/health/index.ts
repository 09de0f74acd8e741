// GET /helloworld and GET /healthcheck: what the multi-region post deploys in each region. The
// health check is a deep ping of the region's tables and streams, and STATUS=fail on its
// function forces a failure for failover drills.
import { Construct } from "constructs";
import { NodejsFunction } from "../nodejs-function";
import type { RestApi } from "../rest-api";

export interface HealthDependencies {
  tables: { name: string; arn: string }[];
  streams: { name: string; arn: string }[];
}

export interface HealthProps {
  api: RestApi;
  project: string;
  region: string;
  logRetentionDays: number;
  /** What a healthy region needs: the deep ping describes each of them. */
  dependencies: HealthDependencies;
}

export const HEALTH_ROUTES = {
  hello: { httpMethod: "GET", path: "/helloworld" },
  healthcheck: { httpMethod: "GET", path: "/healthcheck" },
} as const;

export class Health extends Construct {
  readonly helloFunction: NodejsFunction;
  readonly healthcheckFunction: NodejsFunction;

  constructor(scope: Construct, id: string, props: HealthProps) {
    super(scope, id);
    const common = { region: props.region, logRetentionDays: props.logRetentionDays };

    this.helloFunction = new NodejsFunction(this, "hello", {
      ...common,
      functionName: `${props.project}-hello`,
      description: "GET /helloworld: names the region that answered",
      entry: "lambdas/hello/index.ts",
      memorySizeMb: 128,
    });

    const { tables, streams } = props.dependencies;
    this.healthcheckFunction = new NodejsFunction(this, "healthcheck", {
      ...common,
      functionName: `${props.project}-healthcheck`,
      description: "GET /healthcheck: deep ping for Route 53; STATUS=fail forces a failure",
      entry: "lambdas/healthcheck/index.ts",
      memorySizeMb: 256,
      timeoutSeconds: 5,
      environment: {
        STATUS: "ok",
        CHECK_TABLES: tables.map((t) => t.name).join(","),
        CHECK_STREAMS: streams.map((s) => s.name).join(","),
      },
      policyStatements: [
        ...(tables.length > 0
          ? [{ sid: "DescribeTables", actions: ["dynamodb:DescribeTable"], resources: tables.map((t) => t.arn) }]
          : []),
        ...(streams.length > 0
          ? [{ sid: "DescribeStreams", actions: ["kinesis:DescribeStreamSummary"], resources: streams.map((s) => s.arn) }]
          : []),
      ],
    });

    props.api.addLambdaProxy(HEALTH_ROUTES.hello, this.helloFunction);
    props.api.addLambdaProxy(HEALTH_ROUTES.healthcheck, this.healthcheckFunction);
  }
}
