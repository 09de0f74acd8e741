// GET /lambda?status=<code> (seed "Error Handling Patterns"): succeeds for 200, fails with the
// error contract for 400/403/404/500, and fails with a plain error (no contract) otherwise, which
// the integration must still answer with 500.
import { CONTRACT_STATUSES, ContractError, type ContractStatus } from "../lib/error-contract";
import { instrumented } from "../lib/observability";

export const handler = instrumented(async (event: { failureStatus?: string }, context) => {
  const status = Number(event.failureStatus);
  if (status === 200) return { status: "ok" };
  if ((CONTRACT_STATUSES as readonly number[]).includes(status)) {
    throw new ContractError(status as ContractStatus, context.awsRequestId, `The demo failed with status ${status} as asked.`);
  }
  throw new Error(`the sky is falling! (status ${JSON.stringify(event.failureStatus)} is not one the demo knows)`);
});
