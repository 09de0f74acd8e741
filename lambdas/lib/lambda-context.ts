// The parts of the Lambda context object the handlers and Powertools' Logger use.
export interface LambdaContext {
  awsRequestId: string;
  functionName: string;
  functionVersion?: string;
  memoryLimitInMB?: string;
  invokedFunctionArn: string;
  getRemainingTimeInMillis(): number;
}

/** The region a function runs in, read from its ARN as the multi-region post does. */
export function regionOf(context: Pick<LambdaContext, "invokedFunctionArn">): string {
  const region = context.invokedFunctionArn.split(":")[3];
  if (!region) throw new Error(`cannot read a region from function ARN "${context.invokedFunctionArn}"`);
  return region;
}
