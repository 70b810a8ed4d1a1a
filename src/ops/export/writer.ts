// A file written in large pieces: small writes (one per line) are gathered, so a
// mailbox of many short lines costs few system calls, and memory stays bounded.

import { open, type FileHandle } from 'node:fs/promises';

const FLUSH_BYTES = 256 * 1024;

export class FileWriter {
  private parts: Buffer[] = [];
  private size = 0;
  /** Bytes written so far (including those not yet flushed). */
  written = 0;
  /** The last byte written, to know whether the file ends with a line end. */
  lastByte: number | undefined;

  private constructor(private readonly fh: FileHandle) {}

  /** Creates the file; refuses to overwrite one. */
  static async create(path: string): Promise<FileWriter> {
    return new FileWriter(await open(path, 'wx', 0o600));
  }

  async write(data: Buffer): Promise<void> {
    if (data.length === 0) return;
    this.parts.push(data);
    this.size += data.length;
    this.written += data.length;
    this.lastByte = data[data.length - 1];
    if (this.size >= FLUSH_BYTES) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.size === 0) return;
    const data = Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    let off = 0;
    while (off < data.length) off += (await this.fh.write(data, off)).bytesWritten;
  }

  /** Flushes, fsyncs (the export is durable once the command returns) and closes. */
  async close(times?: Date): Promise<void> {
    try {
      await this.flush();
      if (times) await this.fh.utimes(times, times);
      await this.fh.sync();
    } finally {
      await this.fh.close();
    }
  }

  /** Closes without caring for the contents (after an error). */
  async abandon(): Promise<void> {
    await this.fh.close().catch(() => undefined);
  }
}
