/**
 * Parsers for option values. Each takes the option's name as the user wrote it ("-s/--size")
 * and throws PDSM_ERR_USAGE with that name and the bad value, so every usage error says
 * which option was wrong.
 */
import { isIP } from 'node:net';
import { isMulticast } from '../udp/address.js';
import { readFileSync } from 'node:fs';
import { PdsmError, usageError } from '../errors.js';

const SIZE = /^(\d+)\s*([kmg]?)(?:i?b)?$/i;
const UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** A size in bytes: digits with an optional K, M or G (binary) suffix; > 0 and <= max. */
export function parseSize(option: string, value: string, max: number): number {
  const m = SIZE.exec(value.trim());
  if (!m) throw usageError(`${option}: "${value}" is not a size (bytes, or a number with K, M or G)`);
  const bytes = Number(m[1]) * UNITS[m[2]!.toLowerCase()]!;
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw usageError(`${option}: size must be greater than 0, got "${value}"`);
  if (bytes > max) throw usageError(`${option}: size ${value} is larger than the limit of ${max} bytes`);
  return bytes;
}

/** A decimal integer in [min, max]. */
export function parseInteger(option: string, value: string, min: number, max: number): number {
  if (!/^[+-]?\d+$/.test(value.trim())) throw usageError(`${option}: "${value}" is not a whole number`);
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw usageError(`${option}: ${value} is out of range ${min}..${max}`);
  }
  return n;
}

/** A key base: hex with 0x, or decimal. */
export function parseKey(option: string, value: string, max: number): number {
  const v = value.trim();
  const n = /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v.slice(2), 16) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw usageError(`${option}: "${value}" is not a key (0x hex or decimal)`);
  if (n < 1 || n > max) throw usageError(`${option}: key 0x${n.toString(16)} is out of range 0x1..0x${max.toString(16)}`);
  return n;
}

/** Permission bits as octal (0660, 660, 0o660); the owner must keep read and write. */
export function parseMode(option: string, value: string): number {
  const m = /^(?:0o?)?([0-7]{1,3})$/i.exec(value.trim());
  if (!m) throw usageError(`${option}: "${value}" is not an octal mode such as 0660`);
  const mode = Number.parseInt(m[1]!, 8);
  if ((mode & 0o600) !== 0o600) throw usageError(`${option}: mode ${value} must give the owner read and write (0600)`);
  return mode;
}

export function parseChoice<T extends string>(option: string, value: string, choices: readonly T[]): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw usageError(`${option}: "${value}" is not one of ${choices.join(', ')}`);
  }
  return value as T;
}

/** `-y 6` is the only accepted value (docs/design.md §4); returns the address family. */
export function parseFamily(option: string, value: string | undefined): 4 | 6 {
  if (value === undefined) return 4;
  if (value !== '6') throw usageError(`${option}: only "-y 6" (IPv6) is accepted, got "${value}"`);
  return 6;
}

/** Page size: a power of two in [512, 65536]. */
export function parsePageSize(option: string, value: string): number {
  const n = parseInteger(option, value, 512, 65536);
  if ((n & (n - 1)) !== 0) throw usageError(`${option}: ${value} is not a power of two`);
  return n;
}

export function parseWordSize(option: string, value: string): 1 | 2 | 4 | 8 {
  const n = parseInteger(option, value, 1, 8);
  if (n !== 1 && n !== 2 && n !== 4 && n !== 8) throw usageError(`${option}: word size must be 1, 2, 4 or 8, got ${value}`);
  return n;
}

/** A multicast group of the family in use. */
export function parseMulticastGroup(option: string, value: string, family: 4 | 6): string {
  const kind = isIP(value);
  if (kind === 0) throw usageError(`${option}: "${value}" is not an IP address`);
  if (kind !== family) {
    throw usageError(`${option}: ${value} is an IPv${kind} address but the network side is IPv${family}${family === 4 ? ' (add -y 6 for IPv6)' : ''}`);
  }
  if (!isMulticast(value)) throw usageError(`${option}: ${value} is not a multicast address`);
  return value;
}

/** An address literal of any family (for --multicast-if and --listen). */
export function parseAddress(option: string, value: string): string {
  if (isIP(value) === 0) throw usageError(`${option}: "${value}" is not an IP address`);
  return value;
}

/** `[host:]port` for --metrics. */
export function parseHostPort(option: string, value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]:|([^:]+):)?(\d+)$/.exec(value.trim());
  if (!m) throw usageError(`${option}: "${value}" is not [host:]port`);
  const port = parseInteger(option, m[3]!, 1, 65535);
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port };
}

/**
 * The -g config file: one `Clientname=hostname` line per remote, the i-th such line being
 * client id i. Blank lines and lines starting with # are skipped and do not take an id.
 */
export function parseClientConfig(option: string, path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new PdsmError('PDSM_ERR_CONFIG', `${option}: cannot read config file ${path}: ${(err as Error).message}`);
  }
  const names: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const m = /^Clientname\s*=\s*([A-Za-z0-9._:-]+)$/.exec(line);
    if (!m) {
      throw new PdsmError('PDSM_ERR_CONFIG', `${option}: config file ${path} line ${index + 1}: expected "Clientname=hostname", got ${JSON.stringify(raw)}`);
    }
    names.push(m[1]!);
  });
  if (names.length === 0) throw new PdsmError('PDSM_ERR_CONFIG', `${option}: config file ${path} names no Clientname`);
  return names;
}
