/**
 * `pdsm watch SEG ...`: dump a segment range again every interval and show what changed
 * since the previous view. Like dump it goes through the registry files, never through the
 * daemon, so it shows exactly what applications on this node see.
 *
 * On a terminal: a live view with changed values in reverse video; q or Ctrl-C quits.
 * Without one: the first view in dump's format, then, at each refresh where something
 * changed, a `-- <ISO time>` line and only the lines that changed, each changed value
 * followed by `*`. `--count n` stops after n views (the first one counts).
 */
import { usageError } from '../errors.js';
import { parseArgs } from './daemon-options.js';
import { VIEW_SPEC, FORMATS, openTarget, parseView, viewRange } from './pdsm-dump.js';
import { PDSM_HELP } from './pdsm-help.js';
import { REVERSE, runLive, runPlain } from './pdsm-term.js';
import { parseInteger } from './values.js';

export const WATCH_SPEC = {
  ...VIEW_SPEC,
  '--interval': String,
  '--count': String,
} as const;

export interface WatchLine {
  text: string;
  changed: boolean;
}

/**
 * The lines of one view, in dump's layout (16 hex bytes, 4 u32 or 4 u64/f64 per line);
 * each value that differs from `previous` goes through `mark`. Pure: the tests call it.
 */
export function renderWatch(
  bytes: Buffer,
  previous: Buffer | undefined,
  base: number,
  as: (typeof FORMATS)[number],
  mark: (value: string) => string,
): WatchLine[] {
  const lines: WatchLine[] = [];
  const width = as === 'hex' ? 16 : as === 'u32' ? 16 : 32;
  const size = as === 'hex' ? 1 : as === 'u32' ? 4 : 8;
  for (let o = 0; o < bytes.length; o += width) {
    const values: string[] = [];
    let changed = false;
    for (let i = o; i + size <= Math.min(bytes.length, o + width); i += size) {
      const v =
        as === 'hex'
          ? bytes[i]!.toString(16).padStart(2, '0')
          : as === 'u32'
            ? String(bytes.readUInt32LE(i))
            : as === 'u64'
              ? String(bytes.readBigUInt64LE(i))
              : String(bytes.readDoubleLE(i));
      const differs = previous !== undefined && !bytes.subarray(i, i + size).equals(previous.subarray(i, i + size));
      changed ||= differs;
      values.push(differs ? mark(v) : v);
    }
    lines.push({ text: `${(base + o).toString(16).padStart(8, '0')}: ${values.join(' ')}`, changed });
  }
  return lines;
}

export async function watchCommand(argv: string[]): Promise<number> {
  const a = parseArgs(WATCH_SPEC, argv);
  if (a['--help']) {
    process.stdout.write(PDSM_HELP);
    return 0;
  }
  const view = parseView('watch', a);
  const intervalMs = a['--interval'] === undefined ? 1000 : parseInteger('--interval', a['--interval'], 10, 3_600_000);
  const count = a['--count'] === undefined ? undefined : parseInteger('--count', a['--count'], 1, 1_000_000_000);
  if (view.length === 0) throw usageError('--length: 0 bytes is nothing to watch');
  const target = openTarget(view.seg, view.dir, view.client, view.slice);
  try {
    const { start, len } = viewRange(target, view);
    let previous: Buffer | undefined;
    const snapshot = (): Buffer => Buffer.from(target.bytes.subarray(start, start + len));
    if (process.stdout.isTTY) {
      return await runLive({
        intervalMs,
        ...(count !== undefined ? { count } : {}),
        frame(columns, rows) {
          const now = snapshot();
          const lines = renderWatch(now, previous, start, view.as, REVERSE);
          previous = now;
          const title = `watch ${target.name} bytes ${start}..${start + len - 1} as ${view.as}, every ${intervalMs} ms   q: quit`;
          const shown = lines.slice(0, Math.max(1, rows - 2)).map((l) => l.text);
          const more = lines.length > shown.length ? [`... ${lines.length - shown.length} more lines (narrow with --offset/--length)`] : [];
          return [title.slice(0, columns), ...shown, ...more].join('\n');
        },
      });
    }
    return await runPlain(intervalMs, count, () => {
      const now = snapshot();
      const lines = renderWatch(now, previous, start, view.as, (v) => `${v}*`);
      const out = previous === undefined ? lines : lines.filter((l) => l.changed);
      if (previous !== undefined && out.length > 0) process.stdout.write(`-- ${new Date().toISOString()}\n`);
      if (out.length > 0) process.stdout.write(out.map((l) => `${l.text}\n`).join(''));
      previous = now;
    });
  } finally {
    target.detach();
  }
}
