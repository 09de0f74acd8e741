// The contract between the deployer and the emulated services: a handler per Terraform
// resource (or data source) type creates the resource in the service's state model and returns
// the attributes Terraform would know after apply.

/** One resource instance as the deployer hands it to a handler. */
export interface ResourceContext<Services = unknown> {
  /** `aws_lambda_function` */
  type: string;
  /** logical name in the stack */
  name: string;
  /** Terraform address, e.g. `aws_sns_topic_subscription.email["a@example.com"]` */
  address: string;
  /** The resource's arguments, every expression evaluated. */
  config: Record<string, any>;
  stack: { name: string; dir: string };
  workspace: string;
  region: string;
  accountId: string;
  services: Services;
  /**
   * The id of an `import` block naming this address: the resource exists already (outside
   * Terraform, as an organization or an account does) and is taken over, not created.
   */
  importId?: string;
  /**
   * A stable identifier derived from workspace, stack and address (and `salt`, for a resource
   * that needs several): the same on every start, so URLs and ARNs survive restarts.
   */
  stableId(length?: number, alphabet?: string, salt?: string): string;
  /** Progress or warnings for the person watching the deploy. */
  log(message: string): void;
}

/** Returns the computed attributes (`id`, `arn`, ...); they are merged over the arguments. */
export type ResourceHandler<Services = unknown> = (
  ctx: ResourceContext<Services>,
) => Record<string, unknown> | Promise<Record<string, unknown>>;

export class DeployError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = "DeployError";
  }
}

/** A variable's validation rule failed: the stack is not for this workspace, or a value is wrong. */
export class VariableInvalidError extends DeployError {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super("VARIABLE_INVALID", message);
  }
}
