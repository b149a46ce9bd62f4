#!/usr/bin/env python3
"""Attach to a PDSM remote's segments with ctypes only, and store or load 64-bit values.

    python3 pdsm_example.py [-d registry_dir] -n client_id store RO 0 42
    python3 pdsm_example.py -n 3 load MO 8

Like the C clients: read the registry file's MO and RO lines (docs/design.md §3), attach with
shmget(key, size, 0666) without IPC_CREAT, then shmat. Values are native-endian u64.
"""
import argparse
import ctypes
import ctypes.util
import os
import re
import sys

libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
libc.shmget.argtypes = [ctypes.c_int, ctypes.c_size_t, ctypes.c_int]
libc.shmget.restype = ctypes.c_int
libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
libc.shmat.restype = ctypes.c_void_p

LINE = re.compile(r"^PDSM_(MO|RO|BC|ST)_key 0x([0-9a-fA-F]+) PDSM_\1_size (\d+)")


def read_registry(directory, client):
    path = os.path.join(directory, "pdsm_registry_client_%d" % client)
    segments = {}
    with open(path) as f:
        for number, line in enumerate(f):
            m = LINE.match(line)
            if number < 2 and (not m or m.group(1) != ("MO", "RO")[number]):
                raise SystemExit("pdsm_example.py: %s line %d is malformed" % (path, number + 1))
            if m:
                segments[m.group(1)] = (int(m.group(2), 16), int(m.group(3)))
    return segments


def attach(name, key, size):
    shmid = libc.shmget(key, size, 0o666)
    if shmid < 0:
        raise SystemExit("pdsm_example.py: shmget %s key 0x%x: %s" % (name, key, os.strerror(ctypes.get_errno())))
    address = libc.shmat(shmid, None, 0)
    if address in (None, ctypes.c_void_p(-1).value):
        raise SystemExit("pdsm_example.py: shmat %s: %s" % (name, os.strerror(ctypes.get_errno())))
    return address


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-d", default=os.environ.get("PDSM_REGISTRY_DIR") or "/tmp", help="registry folder")
    p.add_argument("-n", type=int, required=True, help="client id")
    p.add_argument("command", choices=["store", "load"])
    p.add_argument("segment", choices=["MO", "RO", "BC"])
    p.add_argument("offset", type=lambda s: int(s, 0))
    p.add_argument("value", nargs="?", type=lambda s: int(s, 0))
    a = p.parse_args()
    segments = read_registry(a.d, a.n)
    if a.segment not in segments:
        raise SystemExit("pdsm_example.py: the registry lists no %s segment" % a.segment)
    key, size = segments[a.segment]
    if a.offset < 0 or a.offset % 8 or a.offset + 8 > size:
        raise SystemExit("pdsm_example.py: offset %d is not an 8-aligned offset inside %s (size %d)" % (a.offset, a.segment, size))
    word = ctypes.c_uint64.from_address(attach(a.segment, key, size) + a.offset)
    if a.command == "store":
        if a.value is None:
            raise SystemExit("pdsm_example.py: store needs a value")
        word.value = a.value
    else:
        print(word.value)


if __name__ == "__main__":
    main()
