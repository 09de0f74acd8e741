// The platform's own metrics (Powertools Metrics, EMF), by name: the handlers publish them, the
// monitoring module's alarms and dashboard read them. Data only.
export const METRICS = {
  /** A login ProcessSAML accepted (dimension service). */
  samlLogins: "SamlLogins",
  /** A login ProcessSAML refused (dimensions service, and service + reason). */
  samlLoginRefused: "SamlLoginRefused",
  /** A credential pickup the SAML authorizer refused. */
  samlPickupRefused: "SamlPickupRefused",
  /** A comments token the TOKEN authorizer refused (dimensions service, and service + decision: Unauthorized or Deny). */
  commentTokensRefused: "CommentTokensRefused",
  /** A part of the Mars answer NASA did not deliver (dimensions service, and service + part). */
  marsUpstreamFailures: "MarsUpstreamFailures",
  /** A Mars answer served from the last good one. */
  marsStaleAnswers: "MarsStaleAnswers",
  /** An anomalous window published to the ClickStreamEvent topic. */
  anomaliesPublished: "AnomaliesPublished",
  /** An output row the anomaly function could not read. */
  anomalyRowsSkipped: "AnomalyRowsSkipped",
  /** A deep ping that found the region unhealthy. */
  healthCheckFailures: "HealthCheckFailures",
} as const;
