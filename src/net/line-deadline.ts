// The command timeout (`limits.command_timeout_seconds`): a command line, once its
// first byte has arrived, must be complete within the deadline. This is what stops a
// slowloris client — one that keeps a connection busy by sending a byte now and then,
// which resets any idle timer — on SMTP, POP3 and IMAP alike. The idle timeout still
// covers a client that sends nothing at all.
//
// Fed with every chunk the protocol reads (after TLS and decompression): a chunk that
// ends a line clears the deadline; bytes after the last line break start it again.

export class LineDeadline {
  private timer: NodeJS.Timeout | undefined;

  /**
   * `exempt`: true while the protocol is reading something that is not a command line
   * (an IMAP literal); the deadline is then postponed, the idle timeout still applies.
   */
  constructor(
    private readonly ms: number,
    private readonly onExpire: () => void,
    private readonly exempt: () => boolean = () => false,
  ) {}

  feed(chunk: Buffer): void {
    if (chunk.length === 0) return;
    const lastNl = chunk.lastIndexOf(0x0a);
    if (lastNl === -1) {
      // Still the same unfinished line: the deadline keeps running from its first byte.
      if (this.timer === undefined) this.arm();
      return;
    }
    this.stop();
    if (lastNl < chunk.length - 1) this.arm();
  }

  stop(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (this.exempt()) this.arm();
      else this.onExpire();
    }, this.ms);
    this.timer.unref();
  }
}
