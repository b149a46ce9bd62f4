/**
 * Which Windows namespace a node's named file mappings live in (issue 15): `Global\pdsm-<key>`
 * when the daemon may create global objects (SeCreateGlobalPrivilege: services, elevated
 * administrators), else the session's `Local\pdsm-<key>`. The daemon says which in its
 * registry file with a `PDSM_namespace Global|Local` line after the segment lines, so every
 * attaching program opens the same name; a file without the line means Local (daemons before
 * this line always used Local\). POSIX daemons write no such line: SysV keys have no
 * namespace, and POSIX readers validate the line but need nothing from it.
 */
import { PdsmError } from '../errors.js';

export type MappingNamespace = 'Global' | 'Local';
/** `--namespace`: force one, or `auto` (Global\ when allowed, else Local\). */
export type NamespaceChoice = 'global' | 'local' | 'auto';
export const NAMESPACE_CHOICES: readonly NamespaceChoice[] = ['global', 'local', 'auto'];

/** The registry file's line name. */
export const NAMESPACE_LINE = 'PDSM_namespace';

/**
 * TEST ONLY: when this variable is "1", creating a Global\ mapping fails with EACCES as it does
 * for a process without SeCreateGlobalPrivilege on Windows. Wine grants every process that
 * privilege, so this is the only way to run the `auto` fallback there. Never set it otherwise.
 */
export const TEST_ONLY_REFUSE_GLOBAL_ENV = 'PDSM_TEST_ONLY_REFUSE_GLOBAL';

/** The value of a `PDSM_namespace` line; anything but Global or Local is refused, naming it. */
export function parseNamespace(value: string, where: string): MappingNamespace {
  if (value === 'Global' || value === 'Local') return value;
  throw new PdsmError('PDSM_ERR_REGISTRY', `${where}: ${NAMESPACE_LINE} ${JSON.stringify(value)} is neither Global nor Local`);
}
