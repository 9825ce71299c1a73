#!/usr/bin/env python3
"""Writes hostile archives for the safety tests into OUT_DIR.

Each archive tries to make an extractor write outside its output directory, follow a planted
link, or create something it must not. `ESCAPE` is an absolute directory outside the output dir
that the archives aim at; the test checks it is untouched afterwards.

usage: make_hostile.py OUT_DIR ESCAPE
"""
import io
import os
import struct
import sys
import tarfile
import zipfile


def tar(path, members):
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as t:
        for info, data in members:
            t.addfile(info, io.BytesIO(data) if data is not None else None)


def ti(name, kind=tarfile.REGTYPE, data=b"", linkname="", mode=0o644, devmajor=0, devminor=0):
    info = tarfile.TarInfo(name)
    info.type = kind
    info.mode = mode
    info.mtime = 1700000000
    info.linkname = linkname
    info.devmajor = devmajor
    info.devminor = devminor
    info.size = len(data) if kind == tarfile.REGTYPE else 0
    return info, (data if kind == tarfile.REGTYPE else None)


def newc(path, members):
    """members: (name, mode, data, nlink, ino)"""
    out = io.BytesIO()

    def entry(name, mode, data, nlink=1, ino=1):
        nb = name.encode() + b"\0"
        hdr = b"070701" + b"".join(b"%08X" % v for v in (
            ino, mode, 0, 0, nlink, 1700000000, len(data), 0, 0, 0, 0, len(nb), 0))
        out.write(hdr + nb)
        out.write(b"\0" * ((4 - (len(hdr) + len(nb)) % 4) % 4))
        out.write(data)
        out.write(b"\0" * ((4 - len(data) % 4) % 4))

    for i, m in enumerate(members):
        entry(*m)
    entry("TRAILER!!!", 0, b"", 1, 0)
    with open(path, "wb") as f:
        f.write(out.getvalue())


def main():
    out, escape = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    esc = escape.rstrip("/")
    up = "../" * 12 + esc.lstrip("/")

    tar(f"{out}/tar-dotdot.tar", [ti("ok.txt", data=b"fine\n"),
                                  ti(f"{up}/dotdot-pwned", data=b"pwned\n"),
                                  ti("a/../../dotdot2-pwned", data=b"pwned\n")])
    tar(f"{out}/tar-absolute.tar", [ti(f"{esc}/abs-pwned", data=b"pwned\n")])
    tar(f"{out}/tar-symlink-write.tar", [ti("evil", tarfile.SYMTYPE, linkname=esc),
                                         ti("evil/symlink-pwned", data=b"pwned\n")])
    tar(f"{out}/tar-symlink-replace.tar", [ti("x", tarfile.SYMTYPE, linkname=f"{esc}/replace-pwned"),
                                           ti("x", data=b"pwned through a replaced link\n")])
    tar(f"{out}/tar-hardlink-out.tar", [ti("hl", tarfile.LNKTYPE, linkname=f"{esc}/victim"),
                                        ti("hl2", tarfile.LNKTYPE, linkname=f"{up}/victim")])
    tar(f"{out}/tar-devices.tar", [ti("dev/sda", tarfile.BLKTYPE, devmajor=8, devminor=0, mode=0o660),
                                   ti("dev/mem", tarfile.CHRTYPE, devmajor=1, devminor=1, mode=0o640),
                                   ti("dev/fifo", tarfile.FIFOTYPE),
                                   ti("bin/su", data=b"\x7fELF", mode=0o4755),
                                   ti("bin/wall", data=b"\x7fELF", mode=0o2755),
                                   ti("tmp", tarfile.DIRTYPE, mode=0o1777)])
    newc(f"{out}/cpio-dotdot.cpio", [("ok", 0o100644, b"fine\n"),
                                     (f"{up}/cpio-pwned", 0o100644, b"pwned\n"),
                                     ("link", 0o120777, esc.encode()),
                                     ("link/cpio-link-pwned", 0o100644, b"pwned\n")])
    with zipfile.ZipFile(f"{out}/zip-dotdot.zip", "w") as z:
        z.writestr("ok.txt", "fine\n")
        z.writestr(f"{up}/zip-pwned", "pwned\n")
        z.writestr(f"{esc}/zip-abs-pwned", "pwned\n")


if __name__ == "__main__":
    main()
