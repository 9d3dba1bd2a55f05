import { pino, type Logger as PinoLogger } from 'pino';

/** Structured logger handed to handlers (pino: JSON lines, cheap when the level is off). */
export type Logger = Pick<PinoLogger, 'debug' | 'info' | 'warn' | 'error' | 'child'>;

let root: PinoLogger | undefined;

/** One root per thread; level from TROUPE_LOG_LEVEL (default 'info'; 'silent' turns it off). */
export function rootLogger(): Logger {
  return (root ??= pino({ level: process.env.TROUPE_LOG_LEVEL ?? 'info', base: undefined }));
}
