"""The platform seam: SysV shared memory through ctypes (shmget, shmctl, shmat, shmdt) and
registry files read without following symlinks. A Windows backend replaces attach() and
read_registry_file() with OpenFileMapping/MapViewOfFile (see clients/c/src/platform.h).
"""
import ctypes
import ctypes.util
import errno as _errno
import os
import stat as _stat
import sys
import weakref

from ._errors import PdsmError

IPC_STAT = 2
SHM_RDONLY = 0o10000


class _IpcPerm(ctypes.Structure):
    # struct ipc_perm on Linux (x86-64, aarch64): key, uid, gid, cuid, cgid, mode, seq, pad.
    _fields_ = [
        ("key", ctypes.c_int32),
        ("uid", ctypes.c_uint32),
        ("gid", ctypes.c_uint32),
        ("cuid", ctypes.c_uint32),
        ("cgid", ctypes.c_uint32),
        ("mode", ctypes.c_uint16),
        ("pad1", ctypes.c_uint16),
        ("seq", ctypes.c_uint16),
        ("pad2", ctypes.c_uint16),
        ("unused1", ctypes.c_ulong),
        ("unused2", ctypes.c_ulong),
    ]


class _ShmidDs(ctypes.Structure):
    # struct shmid_ds on 64-bit Linux; only shm_segsz is read. Padded generously so a
    # kernel that writes a larger struct never writes past it.
    _fields_ = [("shm_perm", _IpcPerm), ("shm_segsz", ctypes.c_size_t), ("rest", ctypes.c_ubyte * 256)]


_libc = None


def _lib():
    global _libc
    if _libc is None:
        if not sys.platform.startswith("linux"):
            raise PdsmError("PDSM_ERR_UNSUPPORTED", "the pdsm package attaches SysV segments on Linux only (for now)")
        lib = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        lib.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
        lib.shmget.restype = ctypes.c_int
        lib.shmctl.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(_ShmidDs)]
        lib.shmctl.restype = ctypes.c_int
        lib.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
        lib.shmat.restype = ctypes.c_void_p
        lib.shmdt.argtypes = [ctypes.c_void_p]
        lib.shmdt.restype = ctypes.c_int
        _libc = lib
    return _libc


def read_registry_file(path, limit=65536):
    """The text of a registry file; a symlink or anything but a regular file is refused."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as e:
        why = (
            "is a symlink; refusing to follow it"
            if e.errno == _errno.ELOOP
            else "does not exist (is the daemon running?)"
            if e.errno == _errno.ENOENT
            else e.strerror
        )
        raise PdsmError("PDSM_ERR_REGISTRY", "registry file %s %s" % (path, why)) from e
    try:
        if not _stat.S_ISREG(os.fstat(fd).st_mode):
            raise PdsmError("PDSM_ERR_REGISTRY", "registry file %s is not a regular file" % path)
        chunks = []
        size = 0
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                raise PdsmError("PDSM_ERR_REGISTRY", "registry file %s is larger than %d bytes" % (path, limit))
            chunks.append(chunk)
    finally:
        os.close(fd)
    try:
        return b"".join(chunks).decode("ascii")
    except UnicodeDecodeError as e:
        raise PdsmError("PDSM_ERR_REGISTRY", "registry file %s is not ASCII text" % path) from e


def _detach(address):
    _lib().shmdt(ctypes.c_void_p(address))


def attach(name, key, expected, read_only):
    """Map existing segment `key` (never create) and return a byte memoryview of it.

    The kernel's size must equal `expected` (the registry's claim). The mapping is detached
    when the last view of it (this one, its slices, numpy arrays over it) is gone, so a view
    kept after close() stays valid instead of pointing at unmapped memory.
    """
    lib = _lib()
    shmid = lib.shmget(key, 0, 0)
    if shmid < 0:
        e = ctypes.get_errno()
        raise PdsmError("PDSM_ERR_SEGMENT", "%s: shmget key 0x%x: %s" % (name, key, os.strerror(e)))
    ds = _ShmidDs()
    if lib.shmctl(shmid, IPC_STAT, ctypes.byref(ds)) != 0:
        e = ctypes.get_errno()
        raise PdsmError("PDSM_ERR_SEGMENT", "%s: shmctl IPC_STAT key 0x%x: %s" % (name, key, os.strerror(e)))
    if ds.shm_segsz != expected:
        raise PdsmError(
            "PDSM_ERR_SEGMENT_SIZE",
            "%s: segment key 0x%x has %d bytes but the registry says %d" % (name, key, ds.shm_segsz, expected),
        )
    address = lib.shmat(shmid, None, SHM_RDONLY if read_only else 0)
    if address is None or address == ctypes.c_void_p(-1).value:
        e = ctypes.get_errno()
        raise PdsmError("PDSM_ERR_SEGMENT", "%s: shmat key 0x%x: %s" % (name, key, os.strerror(e)))
    array = (ctypes.c_ubyte * expected).from_address(address)
    weakref.finalize(array, _detach, address)
    view = memoryview(array).cast("B")
    return view.toreadonly() if read_only else view
