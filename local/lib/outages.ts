// Regions the local cloud has taken down for a drill: while a region is down, its API Gateway,
// its Lambda functions and its DynamoDB answer 503 to every caller (in that region or another),
// and global tables queue what they would replicate into it until it is back.
export class RegionOutages {
  private readonly down = new Set<string>();
  private readonly listeners = new Set<(region: string, down: boolean) => void>();

  isDown(region: string): boolean {
    return this.down.has(region);
  }

  regionsDown(): string[] {
    return [...this.down].sort();
  }

  set(region: string, down: boolean): void {
    if (this.down.has(region) === down) return;
    if (down) this.down.add(region);
    else this.down.delete(region);
    for (const listener of this.listeners) listener(region, down);
  }

  onChange(listener: (region: string, down: boolean) => void): void {
    this.listeners.add(listener);
  }

  offChange(listener: (region: string, down: boolean) => void): void {
    this.listeners.delete(listener);
  }
}

/** What a service of a region that is down answers, in the message AWS services use for 503. */
export const REGION_DOWN_MESSAGE = "Service Unavailable: the region is down (local cloud outage drill)";
