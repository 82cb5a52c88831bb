import { type Logger, pino } from 'pino';

export type { Logger };

/** JSON lines on stdout, ready for ELK; field names follow pino's defaults. */
export function createLogger(options: { level: string; service: string }): Logger {
  return pino({
    level: options.level,
    base: { service: options.service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  });
}
