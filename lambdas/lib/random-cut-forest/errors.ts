// Errors of the random cut forest: bad points or options from callers, and snapshots that do
// not describe a forest. Each names what was wrong so the caller can act on it.

export type RcfErrorCode = "RCF_INVALID_OPTIONS" | "RCF_INVALID_POINT" | "RCF_INVALID_SNAPSHOT";

export class RcfError extends Error {
  constructor(
    readonly code: RcfErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "RcfError";
  }
}
