// Logs, traces and metrics of every handler, with Powertools for AWS Lambda (TypeScript):
// - Logger: JSON lines with a `level` that Lambda's JSON log format honours (the function's
//   application log level drops the less severe ones), the request id, cold start, function name
//   and, for requests through API Gateway, its request id as `correlation_id`. Events are never
//   logged whole: they carry tokens, SAML responses and keys.
// - Tracer: a subsegment for the handler and one for every AWS SDK call of a `traced` client.
// - Metrics: the business events as CloudWatch metrics (EMF lines in the function's log), in the
//   namespace and with the service of the function's environment (modules/nodejs-function).
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics, MetricUnit } from "@aws-lambda-powertools/metrics";
import { Tracer } from "@aws-lambda-powertools/tracer";
import type { LambdaContext } from "./lambda-context";
import type { METRICS } from "./metric-names";

export const logger = new Logger();
export const tracer = new Tracer();
export const metrics = new Metrics();

/** An AWS SDK v3 client whose every call is an X-Ray subsegment. */
export function traced<T>(client: T): T {
  return tracer.captureAWSv3Client(client);
}

/**
 * Counts one business event. `dimensions` add a second dimension set (service + them) beside the
 * plain one (service), so that an alarm can watch the total and each value.
 */
export function countEvent(name: (typeof METRICS)[keyof typeof METRICS], dimensions?: Record<string, string>): void {
  if (dimensions) metrics.addDimensions(dimensions);
  metrics.addMetric(name, MetricUnit.Count, 1);
}

/** The API Gateway request id an event carries: proxy and REQUEST authorizer events, or a mapping template's `requestId`. */
function apiRequestId(event: unknown): string | undefined {
  const e = event as { requestContext?: { requestId?: unknown }; requestId?: unknown } | null | undefined;
  const id = e?.requestContext?.requestId ?? e?.requestId;
  return typeof id === "string" && id !== "" ? id : undefined;
}

/**
 * The handler with its invocation's log context, a traced subsegment and its metrics published.
 * Lambda always passes a context; tests of handlers that do not read it may leave it out.
 */
export function instrumented<E, R>(handler: (event: E, context: LambdaContext) => Promise<R>): (event: E, context?: LambdaContext) => Promise<R> {
  return async (event, context) => {
    if (context) logger.addContext(context as Parameters<Logger["addContext"]>[0]);
    const correlationId = apiRequestId(event);
    if (correlationId) logger.setCorrelationId(correlationId);
    const segment = tracer.getSegment();
    const subsegment = segment?.addNewSubsegment(`## ${process.env._HANDLER ?? "handler"}`);
    if (subsegment) tracer.setSegment(subsegment);
    tracer.annotateColdStart();
    tracer.addServiceNameAnnotation();
    try {
      return await handler(event, context as LambdaContext);
    } catch (error) {
      tracer.addErrorAsMetadata(error as Error);
      throw error;
    } finally {
      subsegment?.close();
      if (segment) tracer.setSegment(segment);
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      logger.resetKeys();
    }
  };
}
