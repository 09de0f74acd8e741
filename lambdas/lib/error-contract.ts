// The platform's error contract for Lambda functions behind non-proxy integrations (seed "Error
// Handling Patterns in Amazon API Gateway and AWS Lambda"): the function fails with an Error
// whose message is the JSON {"errorType","httpStatus","requestId","message"}, and the
// integration's selection patterns route it by httpStatus (modules/errors).

export const CONTRACT_STATUSES = [400, 403, 404, 500] as const;
export type ContractStatus = (typeof CONTRACT_STATUSES)[number];

const ERROR_TYPES: Record<ContractStatus, string> = { 400: "BadRequest", 403: "Forbidden", 404: "NotFound", 500: "InternalServerError" };

export class ContractError extends Error {
  constructor(httpStatus: ContractStatus, requestId: string, message: string) {
    super(JSON.stringify({ errorType: ERROR_TYPES[httpStatus], httpStatus, requestId, message }));
    this.name = ERROR_TYPES[httpStatus];
  }
}
