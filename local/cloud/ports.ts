// Ports of the local cloud: consecutive from `--port`, or free ones chosen by the OS (0).
export class PortAllocator {
  private next_: number;

  constructor(first: number) {
    if (!Number.isInteger(first) || first < 0 || first > 65535) throw new Error(`--port must be a port number, got ${first}`);
    this.next_ = first;
  }

  next(): number {
    if (this.next_ === 0) return 0;
    return this.next_++;
  }
}
