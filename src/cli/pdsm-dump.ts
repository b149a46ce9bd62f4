/**
 * `pdsm dump` and `pdsm poke`: read or write a segment through the registry files, never
 * through the daemon, so they work while a daemon is down and show exactly what
 * applications see. `pdsm watch` reuses the target and range parsing.
 */
import { PdsmError, usageError } from '../errors.js';
import { attachMaster, attachRemote } from '../index.js';
import { parseArgs, rejectPositionals } from './daemon-options.js';
import { parseChoice, parseInteger } from './values.js';
import { registryDir } from '../segments/registry.js';
import { PDSM_HELP } from './pdsm-help.js';
import { MAX_REMOTES } from '../segments/layout.js';

/** The options that pick a view of a segment: dump, poke and watch all take them. */
export const VIEW_SPEC = {
  '--help': Boolean,
  '-h': '--help',
  '--registry-dir': String,
  '-d': '--registry-dir',
  '--client': String,
  '--slice': String,
  '--offset': String,
  '--length': String,
  '--as': String,
} as const;

export const DUMP_SPEC = {
  ...VIEW_SPEC,
  '--u32': String,
  '--u64': String,
  '--f64': String,
  '--hex': String,
} as const;

export const SEGMENTS = ['MO', 'RO', 'BC', 'ST'] as const;
export const FORMATS = ['hex', 'u32', 'u64', 'f64'] as const;

export function parseNumber(option: string, value: string): number {
  const v = value.trim();
  const n = /^0x[0-9a-f]+$/i.test(v) ? Number.parseInt(v.slice(2), 16) : /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n)) throw usageError(`${option}: "${value}" is not a non-negative whole number`);
  return n;
}

export interface Target {
  bytes: Buffer;
  name: string;
  detach(): void;
}

export function openTarget(seg: (typeof SEGMENTS)[number], dir: string, client: number | undefined, slice: number | undefined): Target {
  if (client !== undefined) {
    if (slice !== undefined) throw usageError("--slice applies to the master's segments: drop --client");
    const node = attachRemote({ registryDir: dir, clientId: client });
    const bytes = { MO: node.mo, RO: node.ro, BC: node.bc, ST: node.st }[seg];
    if (!bytes) {
      node.detach();
      throw new PdsmError('PDSM_ERR_SEGMENT', `remote ${client} has no ${seg} segment`);
    }
    return { bytes, name: `${seg} of remote ${client}`, detach: () => node.detach() };
  }
  const node = attachMaster({ registryDir: dir });
  let bytes: Buffer | undefined = { MO: node.mo, RO: node.ro, BC: node.bc, ST: node.st }[seg];
  let name = `master ${seg}`;
  if (slice !== undefined) {
    if (seg !== 'MO' && seg !== 'RO') {
      node.detach();
      throw usageError(`--slice applies to MO and RO, not ${seg}`);
    }
    try {
      bytes = seg === 'MO' ? node.moSlice(slice) : node.roSlice(slice);
    } catch (err) {
      node.detach();
      throw usageError(`--slice: ${(err as Error).message}`);
    }
    name = `slice ${slice} of master ${seg}`;
  }
  if (!bytes) {
    node.detach();
    throw new PdsmError('PDSM_ERR_SEGMENT', `the master has no ${seg} segment`);
  }
  return { bytes, name, detach: () => node.detach() };
}

export function checkRange(target: Target, offset: number, length: number, option: string): void {
  if (offset + length > target.bytes.length || length < 0) {
    throw usageError(`${option}: bytes ${offset}..${offset + length - 1} are outside ${target.name} (${target.bytes.length} bytes)`);
  }
}

/** Format bytes as lines of `offset: values`, 16 bytes (hex) or 4 values per line. */
export function formatDump(bytes: Buffer, base: number, as: (typeof FORMATS)[number]): string {
  const lines: string[] = [];
  const width = as === 'hex' ? 16 : as === 'u32' ? 16 : 32;
  for (let o = 0; o < bytes.length; o += width) {
    const chunk = bytes.subarray(o, o + width);
    let values: string;
    if (as === 'hex') values = [...chunk].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    else {
      const size = as === 'u32' ? 4 : 8;
      const out: string[] = [];
      for (let i = 0; i + size <= chunk.length; i += size) {
        out.push(as === 'u32' ? String(chunk.readUInt32LE(i)) : as === 'u64' ? String(chunk.readBigUInt64LE(i)) : String(chunk.readDoubleLE(i)));
      }
      values = out.join(' ');
    }
    lines.push(`${(base + o).toString(16).padStart(8, '0')}: ${values}`);
  }
  return lines.join('\n') + (lines.length ? '\n' : '');
}

/** What dump (and watch) look at: a segment, whose, and which bytes in which format. */
export interface View {
  seg: (typeof SEGMENTS)[number];
  dir: string;
  client: number | undefined;
  slice: number | undefined;
  offset: number | undefined;
  length: number | undefined;
  as: (typeof FORMATS)[number];
}

type ViewArgs = { _: string[] } & Partial<Record<'--registry-dir' | '--client' | '--slice' | '--offset' | '--length' | '--as', string>>;

/** Parse SEG and the target/range options shared by dump, poke and watch (usage errors exit 2). */
export function parseView(command: string, a: ViewArgs): View {
  const [segArg, ...rest] = a._;
  rejectPositionals(rest);
  if (segArg === undefined) throw usageError(`${command} needs a segment: MO, RO, BC or ST`);
  return {
    seg: parseChoice('SEG', segArg.toUpperCase(), SEGMENTS),
    dir: registryDir(a['--registry-dir']),
    client: a['--client'] === undefined ? undefined : parseInteger('--client', a['--client'], 0, MAX_REMOTES - 1),
    slice: a['--slice'] === undefined ? undefined : parseInteger('--slice', a['--slice'], 0, MAX_REMOTES - 1),
    offset: a['--offset'] === undefined ? undefined : parseNumber('--offset', a['--offset']),
    length: a['--length'] === undefined ? undefined : parseNumber('--length', a['--length']),
    as: a['--as'] === undefined ? 'hex' : parseChoice('--as', a['--as'], FORMATS),
  };
}

/** The byte range a view covers inside `target` (default: from --offset to the end). */
export function viewRange(target: Target, view: View): { start: number; len: number } {
  const start = view.offset ?? 0;
  const len = view.length ?? target.bytes.length - Math.min(start, target.bytes.length);
  checkRange(target, start, len, view.length === undefined ? '--offset' : '--offset/--length');
  if (view.as !== 'hex' && len % (view.as === 'u32' ? 4 : 8) !== 0) throw usageError(`--length: ${len} is not a whole number of ${view.as} values`);
  return { start, len };
}

export async function dumpOrPoke(command: 'dump' | 'poke', argv: string[]): Promise<number> {
  const a = parseArgs(DUMP_SPEC, argv);
  if (a['--help']) {
    process.stdout.write(PDSM_HELP);
    return 0;
  }
  const view = parseView(command, a);
  const { seg, client, slice, offset } = view;
  const values = (['--u32', '--u64', '--f64', '--hex'] as const).filter((k) => a[k] !== undefined);
  if (command === 'dump') {
    if (values.length) throw usageError(`${values[0]} belongs to poke, not dump`);
  } else {
    if (offset === undefined) throw usageError('poke needs --offset');
    if (values.length !== 1) throw usageError('poke needs exactly one of --u32, --u64, --f64 or --hex');
    if (a['--length'] !== undefined || a['--as'] !== undefined) throw usageError('--length and --as belong to dump, not poke');
  }
  // Values are parsed before anything is attached, so a bad one touches nothing.
  let data: Buffer | undefined;
  if (command === 'poke') {
    const kind = values[0]!;
    const text = a[kind]!;
    if (kind === '--hex') {
      if (!/^(?:[0-9a-f]{2})+$/i.test(text.replace(/\s+/g, ''))) throw usageError(`--hex: "${text}" is not an even number of hex digits`);
      data = Buffer.from(text.replace(/\s+/g, ''), 'hex');
    } else if (kind === '--f64') {
      const f = Number(text);
      if (text.trim() === '' || (Number.isNaN(f) && text.trim().toLowerCase() !== 'nan')) throw usageError(`--f64: "${text}" is not a number`);
      data = Buffer.alloc(8);
      data.writeDoubleLE(f);
    } else {
      const bits = kind === '--u32' ? 32n : 64n;
      let v: bigint;
      try {
        v = BigInt(text.trim());
      } catch {
        throw usageError(`${kind}: "${text}" is not a whole number`);
      }
      if (v < 0n || v >= 1n << bits) throw usageError(`${kind}: ${text} does not fit in ${bits} unsigned bits`);
      data = Buffer.alloc(Number(bits / 8n));
      if (bits === 32n) data.writeUInt32LE(Number(v));
      else data.writeBigUInt64LE(v);
    }
  }
  const target = openTarget(seg, view.dir, client, slice);
  try {
    if (command === 'poke') {
      checkRange(target, offset!, data!.length, '--offset');
      data!.copy(target.bytes, offset!);
      return 0;
    }
    const { start, len } = viewRange(target, view);
    process.stdout.write(formatDump(Buffer.from(target.bytes.subarray(start, start + len)), start, view.as));
    return 0;
  } finally {
    target.detach();
  }
}
