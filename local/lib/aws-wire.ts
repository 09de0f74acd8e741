// The error every emulator raises for what AWS would refuse: the edge renders it in the service's
// protocol (local/lib/aws-protocols.ts).

/** Errors an emulator answers with: `code` is the AWS error code the SDK turns into an exception. */
export class AwsServiceError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly statusCode = 400,
  ) {
    super(message);
    this.name = code;
  }
}
