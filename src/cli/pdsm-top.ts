/**
 * `pdsm top [--client n] [--interval ms]`: the status of a running daemon as a live view,
 * refreshed every second, for an 80-column terminal; q or Ctrl-C quits. Without a terminal
 * on stdout it prints one view and exits 0, so `pdsm top | cat` or a cron job gets a
 * snapshot instead of a stream of escape codes.
 *
 * The view itself is renderTop (pdsm-render.ts), a pure function of the report (and, for
 * rates, the previous report and the time between them).
 */
import { registryDir } from '../segments/registry.js';
import { parseArgs, rejectPositionals } from './daemon-options.js';
import { PDSM_HELP } from './pdsm-help.js';
import { fetchReport } from './pdsm-status.js';
import { fit, renderTop, type TopRates } from './pdsm-render.js';
import { runLive } from './pdsm-term.js';
import { parseInteger } from './values.js';
import { MAX_REMOTES } from '../segments/layout.js';

export const TOP_SPEC = {
  '--help': Boolean,
  '-h': '--help',
  '--registry-dir': String,
  '-d': '--registry-dir',
  '--client': String,
  '--interval': String,
} as const;

export async function topCommand(argv: string[]): Promise<number> {
  const a = parseArgs(TOP_SPEC, argv);
  if (a['--help']) {
    process.stdout.write(PDSM_HELP);
    return 0;
  }
  rejectPositionals(a._);
  const client = a['--client'] === undefined ? undefined : parseInteger('--client', a['--client'], 0, MAX_REMOTES - 1);
  const intervalMs = a['--interval'] === undefined ? 1000 : parseInteger('--interval', a['--interval'], 100, 60_000);
  const dir = registryDir(a['--registry-dir']);
  // The first report decides: a daemon that is not running is exit 1, as for status.
  let last = await fetchReport(dir, client);
  let lastAt = performance.now();
  if (!process.stdout.isTTY) {
    process.stdout.write(renderTop(last, 80));
    return 0;
  }
  let rates: TopRates | undefined;
  let first = true;
  return runLive({
    intervalMs,
    async frame(columns) {
      const width = Math.max(40, columns);
      if (first) {
        first = false;
        return renderTop(last, width);
      }
      try {
        const now = await fetchReport(dir, client);
        const at = performance.now();
        rates = { previous: last, elapsedMs: at - lastAt };
        last = now;
        lastAt = at;
        return renderTop(now, width, rates);
      } catch (err) {
        // Keep the last view on screen and say why it is not moving (a restart, say).
        return `${renderTop(last, width)}\n${fit(`not answering: ${(err as Error).message}`, width)}\n`;
      }
    },
  });
}
