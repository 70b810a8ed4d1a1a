// Open connections per client address, for the per-address connection limit every
// listener applies (`limits.max_connections_per_ip`).

export class ConnectionsPerIp {
  private readonly counts = new Map<string, number>();
  constructor(private readonly max: number) {}

  /** True when `ip` already has the most connections allowed. */
  full(ip: string): boolean {
    return (this.counts.get(ip) ?? 0) >= this.max;
  }

  /** Counts a new connection, unless `ip` is full (then nothing is counted: false). */
  tryOpen(ip: string): boolean {
    if (this.full(ip)) return false;
    this.counts.set(ip, (this.counts.get(ip) ?? 0) + 1);
    return true;
  }

  close(ip: string): void {
    const n = (this.counts.get(ip) ?? 1) - 1;
    if (n <= 0) this.counts.delete(ip);
    else this.counts.set(ip, n);
  }
}
