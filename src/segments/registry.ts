/**
 * Registry files: how applications find the segments (docs/design.md §3). The first two lines are
 * a public contract that C programs parse with fscanf, so they are written in exactly the
 * seed's shape; extra lines only follow them. Files are written atomically (temp file in
 * the same folder, then rename) and never through a symlink.
 */
import { constants as fsConstants, promises as fsp, lstatSync, openSync, readFileSync, closeSync, fstatSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { PdsmError } from '../errors.js';
import { platform } from '../platform.js';
import { formatKey } from './segment.js';
import { NAMESPACE_LINE, parseNamespace, type MappingNamespace } from './namespace.js';

/** /tmp, or the temp folder on Windows (src/platform.ts). */
export const DEFAULT_REGISTRY_DIR = platform.defaultRegistryDir();
export const MASTER_REGISTRY_NAME = 'pdsm_master_registry';

/** File name of remote n's registry, as C's "%s_%d" makes it. */
export function remoteRegistryName(clientId: number): string {
  return `pdsm_registry_client_${clientId}`;
}

/** The registry folder: -d, else $PDSM_REGISTRY_DIR, else /tmp (Windows: the temp folder). */
export function registryDir(fromOption: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return fromOption ?? (env.PDSM_REGISTRY_DIR || DEFAULT_REGISTRY_DIR);
}

export interface SegmentEntry {
  key: number;
  size: number;
}

export interface MasterRegistry {
  MO: SegmentEntry;
  RO: SegmentEntry;
  BC?: SegmentEntry;
  ST?: SegmentEntry;
  /** Number_of_segs: the number of remotes (slices). */
  segs: number;
  /** Seg_size: the size of one slice. */
  segSize: number;
  /** Extra `name value` lines after the segment lines (port, page size, pid...). */
  extra: Record<string, string>;
  /** The Windows mapping namespace of a PDSM_namespace line (src/segments/namespace.ts), when there is one. */
  namespace?: MappingNamespace;
}

export interface RemoteRegistry {
  MO: SegmentEntry;
  RO: SegmentEntry;
  BC?: SegmentEntry;
  ST?: SegmentEntry;
  extra: Record<string, string>;
  namespace?: MappingNamespace;
}

function extraLines(extra: Record<string, string | number>): string {
  return Object.entries(extra)
    .map(([name, value]) => `${name} ${value}\n`)
    .join('');
}

function optionalLine(name: 'BC' | 'ST', entry: SegmentEntry | undefined): string {
  return entry ? `PDSM_${name}_key ${formatKey(entry.key)} PDSM_${name}_size ${entry.size}\n` : '';
}

/** The last line, on Windows only: which namespace the mappings are in. */
function namespaceLine(namespace: MappingNamespace | undefined): string {
  return namespace ? `${NAMESPACE_LINE} ${namespace}\n` : '';
}

/** The text of the master registry file (docs/design.md §3). */
export function formatMasterRegistry(r: Omit<MasterRegistry, 'extra'> & { extra?: Record<string, string | number> }): string {
  const tail = ` Number_of_segs ${r.segs} Seg_size ${r.segSize}\n`;
  return (
    `PDSM_MO_key ${formatKey(r.MO.key)} PDSM_MO_size ${r.MO.size}${tail}` +
    `PDSM_RO_key ${formatKey(r.RO.key)} PDSM_RO_size ${r.RO.size}${tail}` +
    optionalLine('BC', r.BC) +
    optionalLine('ST', r.ST) +
    extraLines(r.extra ?? {}) +
    namespaceLine(r.namespace)
  );
}

/** The text of remote n's registry file (docs/design.md §3). */
export function formatRemoteRegistry(r: Omit<RemoteRegistry, 'extra'> & { extra?: Record<string, string | number> }): string {
  return (
    `PDSM_MO_key ${formatKey(r.MO.key)} PDSM_MO_size ${r.MO.size}\n` +
    `PDSM_RO_key ${formatKey(r.RO.key)} PDSM_RO_size ${r.RO.size}\n` +
    optionalLine('BC', r.BC) +
    optionalLine('ST', r.ST) +
    extraLines(r.extra ?? {}) +
    namespaceLine(r.namespace)
  );
}

/**
 * Refuse a registry path that is a symlink or anything but a regular file. A missing file
 * is fine (returns false); an existing regular file returns true.
 */
export function checkRegistryPath(path: string): boolean {
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw new PdsmError('PDSM_ERR_REGISTRY', `registry file ${path}: ${(err as Error).message}`, { cause: err });
  }
  if (st.isSymbolicLink()) {
    throw new PdsmError('PDSM_ERR_REGISTRY', `registry file ${path} is a symlink; refusing to follow it`);
  }
  if (!st.isFile()) {
    throw new PdsmError('PDSM_ERR_REGISTRY', `registry file ${path} is not a regular file; refusing to touch it`);
  }
  return true;
}

/**
 * Write `text` to `path` atomically with permission bits `mode`: a temp file created
 * exclusively (O_EXCL | O_NOFOLLOW) in the same folder, flushed, then renamed over the
 * target. A symlink or non-regular file at `path` is refused and left as it is.
 */
export async function writeRegistryFile(path: string, text: string, mode: number): Promise<void> {
  checkRegistryPath(path);
  const dir = join(path, '..');
  const tmp = join(dir, `.${path.slice(dir.length + 1)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  const flags = fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_EXCL | fsConstants.O_NOFOLLOW;
  let handle;
  try {
    handle = await fsp.open(tmp, flags, mode);
  } catch (err) {
    throw new PdsmError('PDSM_ERR_REGISTRY', `cannot write registry file in ${dir}: ${(err as Error).message}`, { cause: err });
  }
  try {
    await handle.writeFile(text);
    await handle.chmod(mode); // the umask must not narrow what --mode asked for
    await handle.sync();
  } catch (err) {
    await handle.close();
    await fsp.rm(tmp, { force: true });
    throw new PdsmError('PDSM_ERR_REGISTRY', `cannot write registry file ${tmp}: ${(err as Error).message}`, { cause: err });
  }
  await handle.close();
  try {
    // Checked again just before the rename: rename replaces a symlink, never follows it,
    // but a path that turned into something else meanwhile is still refused.
    checkRegistryPath(path);
    await fsp.rename(tmp, path);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    if (err instanceof PdsmError) throw err;
    throw new PdsmError('PDSM_ERR_REGISTRY', `cannot rename ${tmp} to ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Remove a registry file; a symlink or non-regular file there is refused. True if removed. */
export async function removeRegistryFile(path: string): Promise<boolean> {
  if (!checkRegistryPath(path)) return false;
  await fsp.rm(path, { force: true });
  return true;
}

/** Read a registry file without following a symlink; refuses anything but a regular file. */
export function readRegistryText(path: string): string {
  let fd: number;
  try {
    fd = openSync(path, fsConstants.O_RDONLY | fsConstants.O_NOFOLLOW | fsConstants.O_NONBLOCK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ELOOP' ? 'is a symlink; refusing to follow it' : code === 'ENOENT' ? 'does not exist (is the daemon running?)' : (err as Error).message;
    throw new PdsmError('PDSM_ERR_REGISTRY', `registry file ${path} ${why}`, { cause: err });
  }
  try {
    if (!fstatSync(fd).isFile()) {
      throw new PdsmError('PDSM_ERR_REGISTRY', `registry file ${path} is not a regular file`);
    }
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}

const SEGMENT_LINE = /^PDSM_(MO|RO|BC|ST)_key 0x([0-9a-fA-F]+) PDSM_\1_size (\d+)(?: Number_of_segs (\d+) Seg_size (\d+))?$/;

interface ParsedLines {
  entries: Partial<Record<'MO' | 'RO' | 'BC' | 'ST', SegmentEntry>>;
  segs?: number;
  segSize?: number;
  extra: Record<string, string>;
  namespace?: MappingNamespace;
}

function parseLines(text: string, path: string, master: boolean): ParsedLines {
  const out: ParsedLines = { entries: {}, extra: {} };
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, index) => {
    const m = SEGMENT_LINE.exec(line);
    const bad = (why: string): PdsmError => new PdsmError('PDSM_ERR_REGISTRY', `registry file ${path} line ${index + 1}: ${why}: ${JSON.stringify(line)}`);
    if (index < 2) {
      const want = index === 0 ? 'MO' : 'RO';
      if (!m || m[1] !== want) throw bad(`expected the PDSM_${want}_key line`);
      if (master && m[4] === undefined) throw bad('expected Number_of_segs and Seg_size');
    }
    if (m) {
      const name = m[1] as 'MO' | 'RO' | 'BC' | 'ST';
      out.entries[name] = { key: Number.parseInt(m[2]!, 16), size: Number(m[3]) };
      if (m[4] !== undefined) {
        out.segs = Number(m[4]);
        out.segSize = Number(m[5]);
      }
      return;
    }
    const sp = line.indexOf(' ');
    if (sp <= 0) throw bad('expected "name value"');
    const name = line.slice(0, sp);
    const value = line.slice(sp + 1);
    if (name === NAMESPACE_LINE) {
      // Hostile input: an unknown namespace is refused, never guessed; a second line too.
      if (out.namespace !== undefined) throw bad(`${NAMESPACE_LINE} listed twice`);
      out.namespace = parseNamespace(value, `registry file ${path} line ${index + 1}`);
      return;
    }
    out.extra[name] = value;
  });
  if (!out.entries.MO || !out.entries.RO) {
    throw new PdsmError('PDSM_ERR_REGISTRY', `registry file ${path} lacks the MO and RO lines`);
  }
  return out;
}

/** The BC and ST entries and the namespace, only where the file lists them. */
function optionalEntries(p: ParsedLines): { BC?: SegmentEntry; ST?: SegmentEntry; namespace?: MappingNamespace } {
  return {
    ...(p.entries.BC ? { BC: p.entries.BC } : {}),
    ...(p.entries.ST ? { ST: p.entries.ST } : {}),
    ...(p.namespace ? { namespace: p.namespace } : {}),
  };
}

export function readMasterRegistry(dir: string): MasterRegistry {
  const path = join(dir, MASTER_REGISTRY_NAME);
  const p = parseLines(readRegistryText(path), path, true);
  return { ...optionalEntries(p), MO: p.entries.MO!, RO: p.entries.RO!, segs: p.segs!, segSize: p.segSize!, extra: p.extra };
}

export function readRemoteRegistry(dir: string, clientId: number): RemoteRegistry {
  const path = join(dir, remoteRegistryName(clientId));
  const p = parseLines(readRegistryText(path), path, false);
  return { ...optionalEntries(p), MO: p.entries.MO!, RO: p.entries.RO!, extra: p.extra };
}
