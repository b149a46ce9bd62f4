/**
 * Logs: one line per event on stderr, `time level tool: message key=value ...`, filtered by
 * --log-level. Wire tracing is separate: `debug` namespaces pdsm:* enabled by PDSM_DEBUG.
 */
import createDebug from 'debug';

export const LOG_LEVELS = ['error', 'warn', 'info', 'debug'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type LogFields = Record<string, string | number | bigint | boolean | undefined>;

function formatValue(value: string | number | bigint | boolean): string {
  const s = String(value);
  return s === '' || /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

export function formatFields(fields: LogFields): string {
  let out = '';
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) out += ` ${k}=${formatValue(v)}`;
  }
  return out;
}

export class Logger {
  readonly tool: string;
  #threshold: number;
  #write: (line: string) => void;

  constructor(tool: string, level: LogLevel = 'info', write: (line: string) => void = (l) => process.stderr.write(l)) {
    this.tool = tool;
    this.#threshold = LOG_LEVELS.indexOf(level);
    this.#write = write;
  }

  set level(level: LogLevel) {
    this.#threshold = LOG_LEVELS.indexOf(level);
  }

  enabled(level: LogLevel): boolean {
    return LOG_LEVELS.indexOf(level) <= this.#threshold;
  }

  log(level: LogLevel, message: string, fields: LogFields = {}): void {
    if (!this.enabled(level)) return;
    this.#write(`${new Date().toISOString()} ${level} ${this.tool}: ${message}${formatFields(fields)}\n`);
  }

  error(message: string, fields?: LogFields): void {
    this.log('error', message, fields);
  }
  warn(message: string, fields?: LogFields): void {
    this.log('warn', message, fields);
  }
  info(message: string, fields?: LogFields): void {
    this.log('info', message, fields);
  }
  debug(message: string, fields?: LogFields): void {
    this.log('debug', message, fields);
  }
}

let debugEnabled = false;
/** Turn on the pdsm:* trace namespaces listed in PDSM_DEBUG (once per process). */
export function enableTracing(env: NodeJS.ProcessEnv = process.env): void {
  if (debugEnabled) return;
  debugEnabled = true;
  if (env.PDSM_DEBUG) createDebug.enable(env.PDSM_DEBUG === '*' ? 'pdsm:*' : env.PDSM_DEBUG);
}

/** A trace namespace: 'pdsm:udp', 'pdsm:nack', 'pdsm:seg', 'pdsm:daemon', 'pdsm:cli'. */
export function tracer(namespace: 'udp' | 'nack' | 'seg' | 'daemon' | 'cli'): createDebug.Debugger {
  return createDebug(`pdsm:${namespace}`);
}
