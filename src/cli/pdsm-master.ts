/**
 * pdsm_master: the controlling node's daemon. Seed options first (-h -r -p -s -g -y 6),
 * then the extensions of docs/design.md §4. `main` returns the exit code; the bin only sets it.
 */
import { usageError } from '../errors.js';
import { MAX_REMOTES } from '../segments/layout.js';
import type { MasterConfig } from '../daemon/config.js';
import {
  COMMON_HELP_TAIL,
  COMMON_SPEC,
  DEFAULTS,
  MAX_SEGMENT_SIZE,
  commonConfig,
  parseArgs,
  rejectPositionals,
  runTool,
  type Parsed,
} from './daemon-options.js';
import { parseClientConfig, parseInteger, parseMulticastGroup, parseSize } from './values.js';

export const MASTER_HELP = `Usage: pdsm_master [-h] [-r] [-p number] [-s size] [-g config_file] [-y 6] [options]

Keeps this node's MO, RO (one slice per remote) and BC segments coherent with the remotes.

Seed options:
  -h, --help                 show this help and exit
  -r, --remove               remove this master's segments and registry file, then exit
  -p, --remotes number       number of remotes (slices); deprecated when -g is given (default 1)
  -s, --size size            size of one slice in bytes, K/M/G allowed, rounded up to 4096 (default 4096)
  -g, --config file          config file: one "Clientname=hostname" line per remote, line i is client id i
  -y 6                       use IPv6 on the network side (the only accepted value)

Extensions:
  -i, --interval ms          scan period in milliseconds (default 2000)
  -P, --port port            UDP port to listen on (default 31415)
  -L, --listen address       local address to listen on (default: any)
  -k, --key base             SysV key base: MO=K, RO=K+1, BC=K+2, ST=K+3 (default 0x314158)
  -d, --registry-dir dir     folder of the registry files (default $PDSM_REGISTRY_DIR or /tmp)
  -b, --broadcast-size size  create the broadcast segment BC of this size (default: none)
  -m, --multicast group      send BC to this multicast group (IPv4, or IPv6 with -y 6)
      --multicast-if address local interface address for multicast
      --ttl hops             multicast TTL / hop limit (default 1)
${COMMON_HELP_TAIL}`;

export const MASTER_SPEC = {
  ...COMMON_SPEC,
  '--remotes': String,
  '-p': '--remotes',
  '--config': String,
  '-g': '--config',
  '--broadcast-size': String,
  '-b': '--broadcast-size',
  '--multicast': String,
  '-m': '--multicast',
  '--ttl': String,
} as const;

/** Parse and validate pdsm_master's arguments (throws PDSM_ERR_USAGE / PDSM_ERR_CONFIG). */
export function parseMasterArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): Parsed<MasterConfig> {
  const a = parseArgs(MASTER_SPEC, argv);
  rejectPositionals(a._);
  if (a['--help']) return { action: 'help' };
  const common = commonConfig(a, env);
  let remotes = a['--remotes'] === undefined ? undefined : parseInteger('-p/--remotes', a['--remotes'], 1, MAX_REMOTES);
  let clientNames: string[] | undefined;
  if (a['--config'] !== undefined) {
    clientNames = parseClientConfig('-g/--config', a['--config']);
    if (clientNames.length > MAX_REMOTES) throw usageError(`-g/--config: ${clientNames.length} clients is more than the limit of ${MAX_REMOTES}`);
    if (remotes !== undefined && remotes !== clientNames.length) {
      throw usageError(`-p ${remotes} disagrees with -g ${a['--config']}, which names ${clientNames.length} client(s)`);
    }
    remotes = clientNames.length;
  }
  const config: MasterConfig = {
    ...common,
    role: 'master',
    remotes: remotes ?? 1,
    broadcastSize: a['--broadcast-size'] === undefined ? 0 : parseSize('-b/--broadcast-size', a['--broadcast-size'], MAX_SEGMENT_SIZE),
  };
  if (config.broadcastSize > 0) config.broadcastSize = Math.ceil(config.broadcastSize / Math.max(4096, config.pageSize)) * Math.max(4096, config.pageSize);
  if (clientNames) config.clientNames = clientNames;
  if (a['--multicast'] !== undefined) {
    config.multicast = {
      group: parseMulticastGroup('-m/--multicast', a['--multicast'], config.family),
      ttl: a['--ttl'] === undefined ? DEFAULTS.ttl : parseInteger('--ttl', a['--ttl'], 0, 255),
    };
    if (config.broadcastSize === 0) throw usageError('-m/--multicast carries the broadcast segment: give -b/--broadcast-size too');
  } else if (a['--ttl'] !== undefined) {
    throw usageError('--ttl applies to multicast: give -m/--multicast too');
  }
  if (config.multicastIf !== undefined && config.multicast === undefined) {
    throw usageError('--multicast-if applies to multicast: give -m/--multicast too');
  }
  return { action: a['--remove'] ? 'remove' : 'run', config };
}

export async function main(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  return runTool('pdsm_master', MASTER_HELP, () => parseMasterArgs(argv, env));
}
