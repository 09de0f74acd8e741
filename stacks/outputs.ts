// Names of the outputs a regional stack publishes for the global-dns stack: one list, read by both.
export const REGIONAL_OUTPUTS = {
  apiId: "api_id",
  executeApiHost: "api_execute_host",
  invokeUrl: "api_invoke_url",
  regionalDomainName: "api_regional_domain_name",
  regionalZoneId: "api_regional_zone_id",
  /** The region's alerts topic: the health check alarms in us-east-1 notify us-east-1's. */
  alertsTopicArn: "alerts_topic_arn",
} as const;

export type RegionalOutputName = keyof typeof REGIONAL_OUTPUTS;

export function regionalStackName(region: string): string {
  return `platform-${region}`;
}
