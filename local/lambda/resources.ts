// Terraform resource types of Lambda, applied to the region's Lambda service.
import { join } from "node:path";
import type { RegionServices } from "../cloud/services";
import type { ResourceHandler } from "../deployer/types";

type Handler = ResourceHandler<RegionServices>;

export const lambdaResources: Record<string, Handler> = {
  aws_lambda_function: ({ config, services, stack, region, accountId }) => {
    if (!config.filename) throw new Error(`function ${config.function_name}: only zip deployment packages (filename) are emulated`);
    const arn = `arn:aws:lambda:${region}:${accountId}:function:${config.function_name}`;
    const logging = config.logging_config?.[0] ?? config.logging_config;
    const logGroupName = logging?.log_group ?? `/aws/lambda/${config.function_name}`;
    services.lambda.createFunction({
      name: config.function_name,
      arn,
      region,
      accountId,
      handler: config.handler,
      runtime: config.runtime,
      roleArn: config.role,
      timeoutSeconds: config.timeout ?? 3,
      memorySizeMb: config.memory_size ?? 128,
      environment: config.environment?.variables ?? {},
      reservedConcurrency: config.reserved_concurrent_executions ?? undefined,
      logGroupName,
      logFormat: logging?.log_format === "JSON" ? "JSON" : "Text",
      applicationLogLevel: logging?.application_log_level ?? undefined,
      systemLogLevel: logging?.system_log_level ?? undefined,
      tracing: (config.tracing_config?.mode ?? config.tracing_config?.[0]?.mode) === "Active" ? "Active" : "PassThrough",
      zipPath: join(stack.dir, config.filename),
      sourceCodeHash: config.source_code_hash,
    });
    return {
      id: config.function_name,
      arn,
      qualified_arn: `${arn}:$LATEST`,
      invoke_arn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
      qualified_invoke_arn: `arn:aws:apigateway:${region}:lambda:path/2015-03-31/functions/${arn}:$LATEST/invocations`,
      version: "$LATEST",
    };
  },

  aws_lambda_event_source_mapping: async ({ config, services }) => {
    const source = String(config.event_source_arn ?? "");
    if (!source.startsWith("arn:aws:kinesis:")) throw new Error(`event source mapping: only Kinesis streams are emulated as sources, got ${source}`);
    const fn = services.lambda.getFunction(config.function_name);
    if (!fn) throw new Error(`event source mapping: function ${config.function_name} does not exist`);
    if ((config.parallelization_factor ?? 1) !== 1) {
      throw new Error(`event source mapping of ${config.function_name}: parallelization_factor ${config.parallelization_factor} is not emulated (one batch per shard at a time is)`);
    }
    const uuid = await services.startKinesisMapping({
      functionArn: fn.arn,
      streamArn: source,
      batchSize: config.batch_size ?? 100,
      batchingWindowSeconds: config.maximum_batching_window_in_seconds ?? 0,
      startingPosition: config.starting_position === "TRIM_HORIZON" ? "TRIM_HORIZON" : "LATEST",
      maximumRetryAttempts: config.maximum_retry_attempts ?? -1,
      roleArn: fn.roleArn,
      enabled: config.enabled !== false,
    });
    return { id: uuid, uuid, function_arn: fn.arn, state: config.enabled === false ? "Disabled" : "Enabled" };
  },

  aws_lambda_permission: ({ config, services, stableId }) => {
    const sid = config.statement_id ?? `${config.statement_id_prefix ?? "terraform-"}${stableId(12)}`;
    services.lambda.addPermission(config.function_name, {
      sid,
      action: config.action,
      principal: config.principal,
      sourceArn: config.source_arn ?? undefined,
      sourceAccount: config.source_account ?? undefined,
    });
    return { id: sid, statement_id: sid };
  },
};
