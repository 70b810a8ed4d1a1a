// Messages per client IP in a sliding minute. Per process by design: with several
// workers each counts its own share (as the SMTP connection rate does).

export class MessageRate {
  private readonly seen = new Map<string, number[]>();
  constructor(private readonly max: number, private readonly windowMs = 60_000, private readonly maxKeys = 100_000) {}

  /** Records a message from `ip`; false when the IP is over its rate (0 = no limit). */
  admit(ip: string, now = Date.now()): boolean {
    if (this.max <= 0) return true;
    const times = (this.seen.get(ip) ?? []).filter((t) => now - t < this.windowMs);
    if (times.length >= this.max) {
      this.seen.set(ip, times);
      return false;
    }
    times.push(now);
    if (this.seen.size >= this.maxKeys && !this.seen.has(ip)) this.seen.clear();
    this.seen.set(ip, times);
    return true;
  }
}
