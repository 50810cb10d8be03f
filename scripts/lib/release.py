#!/usr/bin/env python3
"""Packaging half of scripts/release (standard library only).

    release.py package --dist DIR --version V --epoch SECONDS --manifest FILE \
        --binary linux_amd64=PATH [--binary linux_arm64=PATH ...]
    release.py h1 ZIP...     # Terraform's h1: hash of each zip's contents
    release.py zh ZIP...     # Terraform's zh: hash (sha256 of the zip file)

`package` writes into DIR, byte for byte the same for the same inputs:

    terraform-provider-datadog_<V>_<os>_<arch>.zip   one file each: terraform-provider-datadog_v<V>
    terraform-provider-datadog_<V>_manifest.json     the repository's terraform-registry-manifest.json
    terraform-provider-datadog_<V>_SHA256SUMS        sha256sum format over the zips and the manifest
    mirror/<hostname>/orgsync/datadog/index.json     a static Provider Network Mirror Protocol tree
    mirror/<hostname>/orgsync/datadog/<V>.json       (archives per os_arch: url, hashes h1: and zh:)

The zips have fixed timestamps (SOURCE_DATE_EPOCH, given as --epoch), a fixed
order, mode 0755 and deflate level 9; the archives are stored once, under the
first hostname, and the other hostname's <V>.json points at them by relative URL.
Signing is the shell script's job (gpg).
"""

import argparse
import base64
import hashlib
import json
import os
import shutil
import sys
import time
import zipfile

PROVIDER = "terraform-provider-datadog"
NAMESPACE = "orgsync"
TYPE = "datadog"
# Terraform's default registry first (it holds the archives), then OpenTofu's.
HOSTNAMES = ("registry.terraform.io", "registry.opentofu.org")
# The zip format cannot store times before 1980.
ZIP_EPOCH_MIN = 315532800


def sha256_hex(data):
    return hashlib.sha256(data).hexdigest()


def zip_time(epoch):
    t = time.gmtime(max(int(epoch), ZIP_EPOCH_MIN))
    # Two-second resolution in the zip format.
    return (t.tm_year, t.tm_mon, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec - t.tm_sec % 2)


def write_zip(path, members, epoch):
    """members: [(name, bytes)], written in name order, each 0755, deflated."""
    tmp = path + ".tmp"
    with zipfile.ZipFile(tmp, "w") as zf:
        for name, data in sorted(members):
            info = zipfile.ZipInfo(name, date_time=zip_time(epoch))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, so the mode below is honoured
            info.external_attr = (0o100755 & 0xFFFF) << 16
            zf.writestr(info, data, compresslevel=9)
    os.replace(tmp, path)


def hash1(files):
    """golang.org/x/mod/sumdb/dirhash.Hash1 over [(name, bytes)]."""
    summary = hashlib.sha256()
    for name, data in sorted(files):
        if "\n" in name:
            raise ValueError(f"file name with a newline: {name!r}")
        summary.update(f"{sha256_hex(data)}  {name}\n".encode())
    return "h1:" + base64.b64encode(summary.digest()).decode()


def zip_h1(path):
    """Terraform's h1: of a provider zip (dirhash.HashZip with Hash1)."""
    with zipfile.ZipFile(path) as zf:
        return hash1([(info.filename, zf.read(info)) for info in zf.infolist()])


def file_zh(path):
    with open(path, "rb") as f:
        return "zh:" + sha256_hex(f.read())


def write_json(path, value):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")


def package(args):
    dist = args.dist
    version = args.version
    os.makedirs(dist, exist_ok=True)
    binaries = {}
    for spec in args.binary:
        platform, sep, path = spec.partition("=")
        if not sep or platform.count("_") != 1:
            sys.exit(f"release.py: --binary wants OS_ARCH=PATH, not {spec!r}")
        binaries[platform] = path

    zips = {}
    for platform, path in sorted(binaries.items()):
        with open(path, "rb") as f:
            data = f.read()
        name = f"{PROVIDER}_{version}_{platform}.zip"
        write_zip(os.path.join(dist, name), [(f"{PROVIDER}_v{version}", data)], args.epoch)
        zips[platform] = name

    manifest = f"{PROVIDER}_{version}_manifest.json"
    shutil.copyfile(args.manifest, os.path.join(dist, manifest))

    sums = []
    for name in sorted([*zips.values(), manifest]):
        with open(os.path.join(dist, name), "rb") as f:
            sums.append(f"{sha256_hex(f.read())}  {name}\n")
    with open(os.path.join(dist, f"{PROVIDER}_{version}_SHA256SUMS"), "w", encoding="utf-8") as f:
        f.writelines(sums)

    # The network mirror: index.json and <version>.json per hostname.
    mirror = os.path.join(dist, "mirror")
    shutil.rmtree(mirror, ignore_errors=True)
    archives_dir = os.path.join(mirror, HOSTNAMES[0], NAMESPACE, TYPE)
    for i, hostname in enumerate(HOSTNAMES):
        here = os.path.join(mirror, hostname, NAMESPACE, TYPE)
        os.makedirs(here, exist_ok=True)
        archives = {}
        for platform, name in sorted(zips.items()):
            src = os.path.join(dist, name)
            if i == 0:
                shutil.copyfile(src, os.path.join(here, name))
                url = name
            else:
                url = os.path.relpath(os.path.join(archives_dir, name), here).replace(os.sep, "/")
            archives[platform] = {"url": url, "hashes": [zip_h1(src), file_zh(src)]}
        write_json(os.path.join(here, "index.json"), {"versions": {version: {}}})
        write_json(os.path.join(here, f"{version}.json"), {"archives": archives})


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("package")
    p.add_argument("--dist", required=True)
    p.add_argument("--version", required=True)
    p.add_argument("--epoch", required=True, type=int)
    p.add_argument("--manifest", required=True)
    p.add_argument("--binary", action="append", required=True)
    for name in ("h1", "zh"):
        q = sub.add_parser(name)
        q.add_argument("zips", nargs="+")
    args = parser.parse_args()
    if args.command == "package":
        package(args)
    else:
        fn = zip_h1 if args.command == "h1" else file_zh
        for z in args.zips:
            print(f"{fn(z)}  {z}")


if __name__ == "__main__":
    main()
