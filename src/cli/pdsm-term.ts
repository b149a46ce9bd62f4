/**
 * The terminal side of the live views (`pdsm top`, `pdsm watch`): the alternate screen,
 * raw keyboard input (q or Ctrl-C quits), redraw in place, and a loop that refreshes every
 * interval. Whatever ends the view (a key, SIGINT/SIGTERM, an error) restores the terminal.
 */

/** ANSI reverse video, for values that changed since the last refresh. */
export const REVERSE = (s: string): string => `\x1b[7m${s}\x1b[27m`;

export interface LiveOptions {
  /** Refresh period, ms. */
  intervalMs: number;
  /** Stop after this many frames (default: until q, Ctrl-C or a signal). */
  count?: number;
  /** On a TTY: the screen's text for this frame; it is cut to the terminal's size. */
  frame(columns: number, rows: number): Promise<string> | string;
}

/**
 * Run a live view on the terminal until q, Ctrl-C, SIGINT/SIGTERM or `count` frames.
 * Returns the exit code (0).
 */
export async function runLive(options: LiveOptions): Promise<number> {
  const out = process.stdout;
  const input = process.stdin;
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const onKey = (data: Buffer): void => {
    const s = data.toString('utf8');
    if (s === 'q' || s === 'Q' || s.includes('\x03') || s.includes('\x04')) stop();
  };
  const onSignal = (): void => stop();
  const restore = (): void => {
    if (input.isTTY) input.setRawMode(false);
    out.write('\x1b[?25h\x1b[?1049l'); // cursor back, main screen back
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  process.on('exit', restore);
  if (input.isTTY) {
    input.setRawMode(true);
    input.on('data', onKey);
    input.resume();
  }
  out.write('\x1b[?1049h\x1b[?25l'); // alternate screen, no cursor
  let drawing: Promise<void> = Promise.resolve();
  const draw = (): void => {
    drawing = drawing.then(async () => {
      const columns = out.columns || 80;
      const rows = out.rows || 24;
      let text: string;
      try {
        text = await options.frame(columns, rows);
      } catch (err) {
        text = `error: ${(err as Error).message}`;
      }
      const lines = text.replace(/\n$/, '').split('\n').slice(0, rows);
      // Home, each line then clear to its end, then clear below: no flicker.
      out.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\r\n')}\x1b[J`);
    });
  };
  let frames = 0;
  const tick = (): void => {
    draw();
    frames++;
    if (options.count !== undefined && frames >= options.count) void drawing.then(stop);
  };
  const onResize = (): void => draw();
  out.on('resize', onResize);
  tick();
  const timer = setInterval(tick, options.intervalMs);
  try {
    await stopped;
    await drawing.catch(() => undefined);
  } finally {
    clearInterval(timer);
    out.off('resize', onResize);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    process.off('exit', restore);
    if (input.isTTY) {
      input.off('data', onKey);
      input.pause();
    }
    restore();
  }
  return 0;
}

/**
 * Without a terminal: call `step` every interval until `count` steps or SIGINT/SIGTERM.
 * Returns 0.
 */
export async function runPlain(intervalMs: number, count: number | undefined, step: () => void): Promise<number> {
  let stop!: () => void;
  const stopped = new Promise<void>((r) => (stop = r));
  const onSignal = (): void => stop();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  let steps = 0;
  const tick = (): void => {
    step();
    steps++;
    if (count !== undefined && steps >= count) stop();
  };
  tick();
  const timer = setInterval(tick, intervalMs);
  try {
    await stopped;
  } finally {
    clearInterval(timer);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  return 0;
}
