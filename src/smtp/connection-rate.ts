// New connections per client IP in a sliding window (per process: with several
// workers each counts its own share, which is what a per-process limit can promise).

export class ConnectionRate {
  private readonly seen = new Map<string, number[]>();
  constructor(private readonly max: number, private readonly windowMs: number) {}

  /** Records a connection attempt; false when the IP is over its rate (0 = no limit). */
  admit(ip: string, now = Date.now()): boolean {
    if (this.max <= 0) return true;
    const times = (this.seen.get(ip) ?? []).filter((t) => now - t < this.windowMs);
    if (times.length >= this.max) {
      this.seen.set(ip, times);
      return false;
    }
    times.push(now);
    if (this.seen.size >= 100_000 && !this.seen.has(ip)) this.seen.clear();
    this.seen.set(ip, times);
    return true;
  }
}
