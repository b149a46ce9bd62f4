/**
 * pdsm_remote: the daemon of every other node. Seed options first (-h -H -n -s -r -y 6),
 * then the extensions of docs/design.md §4. `main` returns the exit code; the bin only sets it.
 */
import { usageError } from '../errors.js';
import { MAX_REMOTES } from '../segments/layout.js';
import { readMasterRegistry } from '../segments/registry.js';
import type { RemoteConfig } from '../daemon/config.js';
import { COMMON_HELP_TAIL, COMMON_SPEC, commonConfig, parseArgs, rejectPositionals, runTool, type Parsed } from './daemon-options.js';
import { parseInteger } from './values.js';

export const REMOTE_HELP = `Usage: pdsm_remote [-h] [-H master_hostname] [-n client_id] [-s size] [-r] [-y 6] [options]

Keeps this node's MO, RO and BC segments coherent with slice client_id of the master's.

Seed options:
  -h, --help                 show this help and exit
  -H, --master host          host name or address of the master (default localhost)
  -n, --client-id id         this remote's client id, 0..16383 (default 0)
  -s, --size size            size of MO and RO in bytes, K/M/G allowed, rounded up to 4096 (default 4096)
  -r, --remove               remove this remote's segments and registry file, then exit
  -y 6                       use IPv6 on the network side (the only accepted value)

Extensions:
  -i, --interval ms          scan period in milliseconds (default 2000)
  -P, --port port            UDP port of the master (default 31415)
  -L, --listen address       local address to send from (default: any)
  -k, --key base             SysV key base K: this remote uses K+0x28+4n .. +3 (default 0x314158)
  -d, --registry-dir dir     folder of the registry files (default $PDSM_REGISTRY_DIR or /tmp)
      --multicast-if address local interface address to receive the master's multicast on
${COMMON_HELP_TAIL}`;

export const REMOTE_SPEC = {
  ...COMMON_SPEC,
  '--master': String,
  '-H': '--master',
  '--client-id': String,
  '-n': '--client-id',
} as const;

/**
 * The master's remote count when its registry is in the same folder (one host runs both):
 * then -n is checked against it up front. Otherwise the master checks it at join.
 */
function localMasterRemotes(registryDir: string): number | undefined {
  try {
    return readMasterRegistry(registryDir).segs;
  } catch {
    return undefined;
  }
}

/** Parse and validate pdsm_remote's arguments (throws PDSM_ERR_USAGE). */
export function parseRemoteArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Parsed<RemoteConfig> {
  const a = parseArgs(REMOTE_SPEC, argv);
  rejectPositionals(a._);
  if (a['--help']) return { action: 'help' };
  const common = commonConfig(a, env);
  const clientId = a['--client-id'] === undefined ? 0 : parseInteger('-n/--client-id', a['--client-id'], 0, MAX_REMOTES - 1);
  const masterHost = a['--master'] ?? 'localhost';
  if (masterHost === '' || /\s/.test(masterHost)) throw usageError(`-H/--master: "${masterHost}" is not a host name`);
  if (!a['--remove']) {
    const remotes = localMasterRemotes(common.registryDir);
    if (remotes !== undefined && clientId >= remotes) {
      throw usageError(`-n/--client-id: ${clientId} is out of range: the master in ${common.registryDir} serves ${remotes} remote(s), ids 0..${remotes - 1}`);
    }
  }
  return { action: a['--remove'] ? 'remove' : 'run', config: { ...common, role: 'remote', clientId, masterHost } };
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runTool('pdsm_remote', REMOTE_HELP, () => parseRemoteArgs(argv, env));
}
