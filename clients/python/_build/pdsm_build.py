"""A PEP 517/660 build backend in the standard library only, for a pure-Python package:
`pip install clients/python` then needs no package index (no setuptools download)."""
import base64
import hashlib
import io
import os
import tarfile
import zipfile

NAME = "pdsm"
VERSION = "0.1.0"
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SRC = os.path.join(ROOT, "src", NAME)
TAG = "py3-none-any"
DIST_INFO = "%s-%s.dist-info" % (NAME, VERSION)


def _metadata():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return (
        "Metadata-Version: 2.1\nName: %s\nVersion: %s\n"
        "Summary: Attach to PDSM shared memory segments: registry files, slices, status and the ST seqlock\n"
        "License: MIT\nRequires-Python: >=3.8\nDescription-Content-Type: text/markdown\n\n%s" % (NAME, VERSION, readme)
    )


def _wheel(directory, files):
    """Write a wheel holding files ({archive name: bytes}) and its dist-info; return its name."""
    files = dict(files)
    files[DIST_INFO + "/METADATA"] = _metadata().encode()
    files[DIST_INFO + "/WHEEL"] = ("Wheel-Version: 1.0\nGenerator: pdsm_build\nRoot-Is-Purelib: true\nTag: %s\n" % TAG).encode()
    record = []
    for name, data in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.append("%s,sha256=%s,%d" % (name, digest, len(data)))
    record.append(DIST_INFO + "/RECORD,,")
    files[DIST_INFO + "/RECORD"] = ("\n".join(record) + "\n").encode()
    wheel_name = "%s-%s-%s.whl" % (NAME, VERSION, TAG)
    with zipfile.ZipFile(os.path.join(directory, wheel_name), "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in files.items():
            z.writestr(name, data)
    return wheel_name


def _sources():
    out = {}
    for entry in sorted(os.listdir(SRC)):
        if entry.endswith(".py"):
            with open(os.path.join(SRC, entry), "rb") as f:
                out["%s/%s" % (NAME, entry)] = f.read()
    return out


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def get_requires_for_build_editable(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    return _wheel(wheel_directory, _sources())


def build_editable(wheel_directory, config_settings=None, metadata_directory=None):
    # PEP 660: a .pth file that puts src/ on sys.path.
    return _wheel(wheel_directory, {"%s_editable.pth" % NAME: (os.path.join(ROOT, "src") + "\n").encode()})


def build_sdist(sdist_directory, config_settings=None):
    base = "%s-%s" % (NAME, VERSION)
    name = base + ".tar.gz"
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz") as tar:
        for rel in ["pyproject.toml", "README.md", "_build/pdsm_build.py"] + ["src/%s" % k for k in _sources()] + [
            "tests/" + t for t in sorted(os.listdir(os.path.join(ROOT, "tests"))) if t.endswith(".py")
        ]:
            tar.add(os.path.join(ROOT, rel), arcname="%s/%s" % (base, rel))
        info = tarfile.TarInfo("%s/PKG-INFO" % base)
        data = _metadata().encode()
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    return name
