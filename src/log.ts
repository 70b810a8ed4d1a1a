// The process logger: pino, JSON lines on stdout, one line per event. Protocol hot paths
// log at debug or below; info is for things an operator wants to see once.
import { pino, destination as pinoDestination, stdTimeFunctions, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/index.js';

export type { Logger } from 'pino';

export function createLogger(options: { level: LogLevel }, destination?: DestinationStream): Logger {
  return pino(
    {
      level: options.level,
      base: { pid: process.pid },
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination ?? pinoDestination({ dest: 1, sync: true }),
  );
}
