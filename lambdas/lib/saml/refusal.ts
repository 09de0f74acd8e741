// Why a login was refused. `reason` is a short slug: it travels to the login page in
// `#error=<reason>`, lands in the audit row, and says what to fix without exposing internals.
export const REFUSAL_REASONS = [
  "request_malformed",
  "request_too_large",
  "invalid_base64",
  "relay_state_invalid",
  "dtd_not_allowed",
  "xml_malformed",
  "schema_invalid",
  "not_a_response",
  "multiple_assertions",
  "encrypted_assertion_unsupported",
  "signature_wrapping",
  "unsigned",
  "signature_invalid",
  "issuer_mismatch",
  "status_not_success",
  "assertion_expired",
  "assertion_not_yet_valid",
  "audience_mismatch",
  "destination_mismatch",
  "recipient_mismatch",
  "assertion_replayed",
  "no_mapped_role",
  "sts_refused",
  "session_conflict",
  "authority_unavailable",
  "internal_error",
] as const;

export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export class SamlRefusal extends Error {
  readonly code: RefusalReason;
  constructor(reason: RefusalReason, message: string) {
    super(message);
    this.name = "SamlRefusal";
    this.code = reason;
  }
}
