#!/usr/bin/env python3
"""Accuracy of the binary signatures against exact ground truth (issue 5).

Each case is an image plus the packages it really contains (name, version). The image is scanned
with the package-database sources switched off (FIRMWARDEN_IDENTIFY_SKIP=dpkg,opkg,apk), so only
the binaries speak. Package names map to signature products through the `packages` lists of
data/signatures/*.toml; truth and findings are compared on (product, upstream version), where the
upstream version drops the epoch, the packaging revision and repack markers (1:1.2.13.dfsg-1 ->
1.2.13). Only covered products count: a truth package no signature lists is out of scope, and so
is a finding of a product the truth does not list at all in that image (a library linked
statically into another binary, which no package database records either) -- those are reported
separately. Prints Markdown tables.

  identify_accuracy.py FIRMWARDEN SIGNATURE_DIR CASES.json
CASES.json: [{"name": ..., "image": ..., "packages": [[name, version], ...]}, ...]
"""
import json, os, re, subprocess, sys, tempfile, tomllib

def upstream(v):
    v = v.split(':', 1)[1] if re.match(r'^\d+:', v) else v
    if '-' in v:
        v = v[:v.rfind('-')]
    v = re.sub(r'[.+~-](?:dfsg|ds|repack|really|stable|debian|deb)\w*.*$', '', v)
    v = re.sub(r'\+.*$', '', v)
    return v

def comparable(v):
    # OpenWrt snapshots ("2013-08-08-<hash>", "20131120") carry no upstream release number.
    return bool(re.match(r'^\d', v)) and not re.match(r'^(\d{8}|\d{4}-\d\d-\d\d)', v)

def main():
    binary, sigdir, cases_path = sys.argv[1:4]
    pkg_products = {}
    products = set()
    for f in sorted(os.listdir(sigdir)):
        if f.endswith('.toml'):
            d = tomllib.load(open(os.path.join(sigdir, f), 'rb'))
            products.add(d['product'])
            for p in [d['product']] + d.get('packages', []):
                pkg_products.setdefault(p, set()).add(d['product'])
    cases = json.load(open(cases_path))
    env = dict(os.environ, FIRMWARDEN_IDENTIFY_SKIP='dpkg,opkg,apk')
    tot_tp = tot_fp = tot_fn = 0
    rows, misses, extras, static = [], [], [], []
    for case in cases:
        # One truth per (candidate products, upstream version): libc6 and libc-bin are one glibc;
        # OpenWrt's "libc" is uclibc or uclibc-ng, whichever the binaries say.
        groups = {}
        for name, version in case['packages']:
            v = upstream(version)
            if name not in pkg_products or not comparable(v):
                continue
            groups.setdefault((frozenset(pkg_products[name]), v), name)
        truth = {}
        for (prods, v) in groups:
            for p in prods:
                truth.setdefault(p, set()).add(v)
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, 'sbom.json')
            subprocess.run([binary, 'sbom', case['image'], '--format', 'cyclonedx', '-o', out],
                           env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            doc = json.load(open(out))
        found = set()
        for c in doc.get('components', []):
            if c.get('name') in products:
                found.add((c['name'], c.get('version', '')))
        tp = fn = 0
        matched = set()
        for (prods, v), name in sorted(groups.items(), key=lambda kv: (kv[1], kv[0][1])):
            hit = [(p, v) for p in prods if (p, v) in found]
            if hit:
                tp += 1
                matched.update(hit)
            else:
                fn += 1
                misses.append('%s: %s %s' % (case['name'], name, v))
        fp = 0
        for prod, v in sorted(found - matched):
            if prod in truth:
                if any((prod, v) == m for m in matched):
                    continue
                fp += 1
                extras.append('%s: %s %s (truth %s)' % (case['name'], prod, v, ', '.join(sorted(truth[prod]))))
            else:
                static.append('%s: %s %s' % (case['name'], prod, v))
        tot_tp += tp; tot_fp += fp; tot_fn += fn
        rows.append((case['name'], len(groups), tp, fp, fn))
    print('| image | covered truth (product, version) | found | wrong | missed | recall | precision |')
    print('|---|---:|---:|---:|---:|---:|---:|')
    for name, n, tp, fp, fn in rows:
        rec = tp / (tp + fn) if tp + fn else 1.0
        pre = tp / (tp + fp) if tp + fp else 1.0
        print('| %s | %d | %d | %d | %d | %.1f%% | %.1f%% |' % (name, n, tp, fp, fn, 100 * rec, 100 * pre))
    rec = tot_tp / (tot_tp + tot_fn) if tot_tp + tot_fn else 1.0
    pre = tot_tp / (tot_tp + tot_fp) if tot_tp + tot_fp else 1.0
    print('| **all** | %d | %d | %d | %d | **%.1f%%** | **%.1f%%** |' % (
        tot_tp + tot_fn, tot_tp, tot_fp, tot_fn, 100 * rec, 100 * pre))
    print()
    print('Missed: ' + ('; '.join(misses) if misses else 'none'))
    print()
    print('Wrong version: ' + ('; '.join(extras) if extras else 'none'))
    print()
    print('Products found that the package database does not list (not counted): ' +
          ('; '.join(sorted(set(s.split(': ', 1)[1] for s in static))) if static else 'none'))

main()
