#!/usr/bin/env python3
"""Builds a root file system tarball from a fixture spec (tests/checks/*.fires, *.quiet).

Spec format, one block per entry:
  === file PATH [mode=0644] [uid=0] [gid=0] [elf]   followed by the content lines
  === dir PATH [mode=0755]
  === link PATH -> TARGET
  === b64 PATH [mode=0644] [uid=0] [gid=0] [elf]    followed by base64 lines: binary content
  === gen PATH [mode=0644] [uid=0] [gid=0] [elf]    followed by a /bin/sh script: its stdout
  === cc PATH [mode=0755] [uid=0] [gid=0] flags="-O2 -fstack-protector-strong …"
      followed by C source, compiled with the host's gcc at pack time (`$CC` overrides) with those
      flags; the file is the real linked program. The same spec gives the same source and flags,
      so results are deterministic for one toolchain.
  === copy PATH [mode=0755] from=/bin/true
      the bytes of a host file.
The header line is split like a shell line, so values may be quoted.
Every entry is owned by root unless uid/gid say otherwise; `elf` prefixes the content with an ELF
header (16 bytes) so that the file counts as a program. Lines starting with "#" before the first
block are comments.

`gen` scripts run at pack time (set -e), in order, all in one scratch directory per spec, so a later
block can output what an earlier one generated (`openssl req ... -keyout key.pem` in one block,
`cat key.pem` in the next). They see the environment, e.g. $FIRMWARDEN_SHARED_DIR. A failing script
fails the pack. Usage: pack.py SPEC OUT.tar
"""
import base64
import io
import os
import shlex
import subprocess
import sys
import tarfile
import tempfile


def compile_c(source, flags, path):
    """Compiles `source` with gcc and `flags`; returns the program's bytes."""
    cc = os.environ.get("CC", "gcc")
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "a.out")
        cmd = [cc, "-x", "c", "-", "-o", out] + shlex.split(flags)
        r = subprocess.run(cmd, input=source.encode(), capture_output=True)
        if r.returncode != 0:
            sys.exit("pack.py: compiling %s failed: %s\n%s" % (path, " ".join(cmd),
                                                              r.stderr.decode(errors="replace")))
        with open(out, "rb") as f:
            return f.read()


def main(spec_path, out_path):
    entries = []
    cur = None
    for raw in open(spec_path, encoding="utf-8").read().split("\n"):
        if raw.startswith("=== "):
            words = shlex.split(raw[4:])
            kind, path = words[0], words[1]
            e = {"kind": kind, "path": path, "lines": [], "mode": None, "uid": 0, "gid": 0,
                 "elf": False, "target": None, "flags": "", "from": None}
            rest = words[2:]
            if kind == "link":
                e["target"] = rest[1]
                rest = []
            for w in rest:
                if w.startswith("mode="):
                    e["mode"] = int(w[5:], 8)
                elif w.startswith("uid="):
                    e["uid"] = int(w[4:])
                elif w.startswith("gid="):
                    e["gid"] = int(w[4:])
                elif w == "elf":
                    e["elf"] = True
                elif w.startswith("flags="):
                    e["flags"] = w[6:]
                elif w.startswith("from="):
                    e["from"] = w[5:]
            entries.append(e)
            cur = e
        elif cur is not None:
            cur["lines"].append(raw)
    scratch = tempfile.TemporaryDirectory(prefix="pack-")
    for e in entries:
        if e["kind"] == "b64":
            e["data"] = base64.b64decode("".join(line.strip() for line in e["lines"]))
        elif e["kind"] == "gen":
            script = "set -e\n" + "\n".join(e["lines"]) + "\n"
            e["data"] = subprocess.run(["/bin/sh", "-c", script], cwd=scratch.name, check=True,
                                       stdout=subprocess.PIPE).stdout
    dirs = set()
    with tarfile.open(out_path, "w", format=tarfile.GNU_FORMAT) as tar:
        def add_dir(path, mode=0o755):
            if path in dirs or path == "":
                return
            parent = path.rsplit("/", 1)[0] if "/" in path else ""
            add_dir(parent)
            dirs.add(path)
            ti = tarfile.TarInfo(path)
            ti.type = tarfile.DIRTYPE
            ti.mode = mode
            ti.mtime = 1700000000
            tar.addfile(ti)
        for e in entries:
            parent = e["path"].rsplit("/", 1)[0] if "/" in e["path"] else ""
            if e["kind"] == "dir":
                add_dir(parent)
                if e["path"] not in dirs:
                    dirs.add(e["path"])
                    ti = tarfile.TarInfo(e["path"])
                    ti.type = tarfile.DIRTYPE
                    ti.mode = e["mode"] if e["mode"] is not None else 0o755
                    ti.mtime = 1700000000
                    tar.addfile(ti)
                continue
            add_dir(parent)
            ti = tarfile.TarInfo(e["path"])
            ti.uid, ti.gid, ti.mtime = e["uid"], e["gid"], 1700000000
            if e["kind"] == "link":
                ti.type = tarfile.SYMTYPE
                ti.linkname = e["target"]
                ti.mode = 0o777
                tar.addfile(ti)
                continue
            program = e["kind"] in ("cc", "copy")
            if "data" in e:
                data = e["data"]
            else:
                lines = e["lines"]
                while lines and lines[-1] == "":
                    lines.pop()
                data = ("\n".join(lines) + ("\n" if lines else "")).encode()
            if e["kind"] == "cc":
                data = compile_c(data.decode(), e["flags"], e["path"])
            elif e["kind"] == "copy":
                with open(e["from"], "rb") as f:
                    data = f.read()
            if e["elf"]:
                data = b"\x7fELF\x01\x01\x01" + b"\x00" * 9 + data
            ti.size = len(data)
            ti.mode = e["mode"] if e["mode"] is not None else (0o755 if e["elf"] or program else 0o644)
            tar.addfile(ti, io.BytesIO(data))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
