/**
 * pdsm: the admin tool. `status`, `top` and `flush` ask a running daemon through its control socket
 * (src/daemon/control.ts); `dump`, `poke` and `watch` work through the registry files,
 * never through the daemon, so they work while a daemon is down and show exactly what
 * applications see. `conformance` tests another node against spec/protocol.md over UDP.
 */
import { usageError } from '../errors.js';
import { reportError } from './daemon-options.js';
import { conformanceCommand } from './pdsm-conformance.js';
import { dumpOrPoke } from './pdsm-dump.js';
import { flushCommand } from './pdsm-flush.js';
import { PDSM_HELP } from './pdsm-help.js';
import { statusCommand } from './pdsm-status.js';
import { topCommand } from './pdsm-top.js';
import { watchCommand } from './pdsm-watch.js';

export { PDSM_HELP } from './pdsm-help.js';
export { formatDump } from './pdsm-dump.js';

const COMMANDS = ['status', 'top', 'flush', 'dump', 'poke', 'watch', 'conformance'] as const;

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  try {
    if (command === undefined || command === '-h' || command === '--help' || command === 'help') {
      process.stdout.write(PDSM_HELP);
      return command === undefined ? 2 : 0;
    }
    switch (command) {
      case 'dump':
      case 'poke':
        return await dumpOrPoke(command, rest);
      case 'status':
        return await statusCommand(rest);
      case 'top':
        return await topCommand(rest);
      case 'flush':
        return await flushCommand(rest);
      case 'watch':
        return await watchCommand(rest);
      case 'conformance':
        return await conformanceCommand(rest);
      default:
        throw usageError(`unknown command "${command}" (${COMMANDS.join(', ')})`);
    }
  } catch (err) {
    return reportError('pdsm', err);
  }
}
