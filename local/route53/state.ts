// Route 53 state (global): hosted zones, record sets with their routing policies, health
// checks. The DNS server and the health checkers of the local cloud read it.

export interface RecordSet {
  zoneId: string;
  /** Fully qualified, lower case, without the trailing dot. */
  name: string;
  type: string;
  ttl: number;
  records: string[];
  setIdentifier?: string;
  latencyRegion?: string;
  healthCheckId?: string;
}

export interface HealthCheckConfig {
  id: string;
  /** The account that created it: its metrics are that account's (in us-east-1). */
  accountId: string;
  type: string;
  fqdn: string;
  port: number;
  resourcePath: string;
  searchString?: string;
  requestInterval: number;
  failureThreshold: number;
}

export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/\.$/, "");
}

export class Route53State {
  readonly zones = new Map<string, { id: string; name?: string }>();
  readonly records: RecordSet[] = [];
  readonly healthChecks = new Map<string, HealthCheckConfig>();

  /**
   * Hosted zones the platform uses are created outside Terraform (they hold the domain): a
   * record in an unknown zone creates it, named after the zone id until a record names it.
   */
  ensureZone(zoneId: string, name?: string) {
    if (!this.zones.has(zoneId)) this.zones.set(zoneId, { id: zoneId });
    const zone = this.zones.get(zoneId)!;
    // The zone's domain (from the workspace environment) makes the DNS server authoritative for
    // every name under it (NXDOMAIN for unknown ones), not only for the names its records hold.
    if (name !== undefined) zone.name = normalizeName(name);
    return zone;
  }

  putRecord(record: RecordSet): void {
    this.ensureZone(record.zoneId);
    const name = normalizeName(record.name);
    const existing = this.records.findIndex(
      (r) => r.zoneId === record.zoneId && r.name === name && r.type === record.type && r.setIdentifier === record.setIdentifier,
    );
    const normalized = { ...record, name };
    if (existing >= 0) this.records[existing] = normalized;
    else this.records.push(normalized);
  }

  hasRecord(name: string, type: string): boolean {
    const wanted = normalizeName(name);
    return this.records.some((r) => r.name === wanted && r.type === type);
  }

  recordsNamed(name: string, type?: string): RecordSet[] {
    const wanted = normalizeName(name);
    return this.records.filter((r) => r.name === wanted && (type === undefined || r.type === type));
  }
}
