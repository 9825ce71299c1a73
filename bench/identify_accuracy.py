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

  identify_accuracy.py FIRMWARDEN SIGNATURE_DIR CASES.json [--json RESULTS.json]
CASES.json: [{"name": ..., "image": ..., "packages": [[name, version], ...]}, ...]
RESULTS.json (for tests/identify_corpus_test.cc): per case the counts, the covered products, the
misses and the wrong versions.
"""
import json, os, re, subprocess, sys, tempfile, tomllib

# Packages that a signature lists but whose binaries carry no version string of their own, so no
# binary scan can name their version: left out of "covered", each with the reason (the README
# lists them too). Only packages measured to carry none are listed here: name -> (upstream
# versions it applies to, reason).
VERSIONLESS = {
    # libsystemd and libudev name their release only in the ELF package note (bookworm's 252
    # has it); bullseye's 247.3 carries just the symbol-version tag LIBSYSTEMD_247 /
    # LIBUDEV_247, the ABI level, not the release.
    'libsystemd0': (r'24\d\.', 'systemd 24x: no package note, only the ABI tag'),
    'libudev1': (r'24\d\.', 'systemd 24x: no package note, only the ABI tag'),
    # trixie's libupnp (CMake build) puts its soversion where the release belongs in the SERVER
    # banner ("Portable SDK for UPnP devices/17.2.0") and carries no other version text.
    'libupnp17t64': (r'', 'banner names the soversion 17.2.0, not the release'),
}

def versionless(name, v):
    return name in VERSIONLESS and re.match(VERSIONLESS[name][0], v) is not None

# Products whose every signature rule is a versionless path rule (OpenWrt's procd, ubus, uhttpd…)
# are never compared on version either: the scan names them without one, whatever the package's
# version ("2015-10-29.1-…", or uhttpd's bare package release "28" in OpenWrt 2011).

# Products whose own version adds the upstream patch level to the release (bash 5.1 with the
# official patches bash51-001..004 reports "5.1.4"), while the Debian package may be versioned by
# the release alone (bash 5.1-2): for these, a truth of two components matches a finding that
# extends it by a patch-level number.
PATCHLEVEL = {'bash', 'readline'}

def same(product, truth_v, found_v):
    """One version as the package names it and as the binary names it: equal up to trailing
    ".0" components (Debian's hostapd 2.9.0 is "hostapd v2.9"), or the PATCHLEVEL rule."""
    strip = lambda v: re.sub(r'(?:\.0)+$', '', v)
    if strip(truth_v) == strip(found_v):
        return True
    return (product in PATCHLEVEL and re.fullmatch(r'\d+\.\d+', truth_v) is not None and
            re.fullmatch(re.escape(truth_v) + r'\.\d+', found_v) is not None)

def upstream(v):
    v = v.split(':', 1)[1] if re.match(r'^\d+:', v) else v
    if '-' in v:
        v = v[:v.rfind('-')]
    # "2.12.7+dfsg+really2.9.14": Debian's marker for a version rolled back to an older upstream.
    if 'really' in v:
        v = v[v.rfind('really') + len('really'):]
    v = re.sub(r'[.+~-](?:dfsg|ds|repack|really|stable|debian|deb)\w*.*$', '', v)
    v = re.sub(r'\+.*$', '', v)
    return v

def comparable(v):
    # OpenWrt snapshots ("2013-08-08-<hash>", "20131120") carry no upstream release number.
    return bool(re.match(r'^\d', v)) and not re.match(r'^(\d{8}|\d{4}-\d\d-\d\d)', v)

def main():
    binary, sigdir, cases_path = sys.argv[1:4]
    json_out = sys.argv[5] if len(sys.argv) > 5 and sys.argv[4] == '--json' else None
    results = []
    pkg_products = {}
    products = set()
    named_only = set()  # products whose every rule is a versionless path rule (OpenWrt's procd)
    for f in sorted(os.listdir(sigdir)):
        if f.endswith('.toml'):
            d = tomllib.load(open(os.path.join(sigdir, f), 'rb'))
            products.add(d['product'])
            if all(r.get('versionless') for r in d.get('rule', [])):
                named_only.add(d['product'])
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
        unversioned = {}  # covered products whose truth has no comparable version: name -> prods
        for name, version in case['packages']:
            v = upstream(version)
            if name not in pkg_products:
                continue
            if versionless(name, v) or not comparable(v) or pkg_products[name] <= named_only:
                unversioned.setdefault(name, frozenset(pkg_products[name]))
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
        res = {'name': case['name'], 'covered': len(groups),
               'products': sorted(set(p for prods, _ in groups for p in prods)),
               'missed': [], 'wrong': []}
        for (prods, v), name in sorted(groups.items(), key=lambda kv: (kv[1], kv[0][1])):
            hit = [(p, fv) for p, fv in found if p in prods and same(p, v, fv)]
            if hit:
                tp += 1
                matched.update(hit)
            else:
                fn += 1
                misses.append('%s: %s %s' % (case['name'], name, v))
                res['missed'].append('%s %s (found: %s)' % (name, v, ', '.join(
                    sorted('%s %s' % f for f in found if f[0] in prods)) or 'nothing'))
        # Products the truth lists without a comparable version (OpenWrt's git-dated procd, ubus):
        # were they named at all, with or without a version? Reported, not counted.
        named_products = set(p for p, _ in found)
        res['unversioned'] = sorted(unversioned)
        res['unversioned_named'] = sorted(n for n, prods in unversioned.items()
                                          if prods & named_products)
        fp = 0
        for prod, v in sorted(found - matched):
            if v == '':
                continue  # named without a version (a path rule): neither right nor wrong
            if prod in truth:
                fp += 1
                extras.append('%s: %s %s (truth %s)' % (case['name'], prod, v, ', '.join(sorted(truth[prod]))))
                res['wrong'].append('%s %s (truth %s)' % (prod, v, ', '.join(sorted(truth[prod]))))
            else:
                static.append('%s: %s %s' % (case['name'], prod, v))
        tot_tp += tp; tot_fp += fp; tot_fn += fn
        rows.append((case['name'], len(groups), tp, fp, fn))
        res.update(found=tp, wrong_count=fp, missed_count=fn)
        results.append(res)
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
    print('Packages without a comparable version (not counted above), named by the binaries '
          'or paths without the package database:')
    print()
    print('| image | packages | named | not named |')
    print('|---|---:|---:|---|')
    for r in results:
        if r['unversioned']:
            print('| %s | %d | %d | %s |' % (r['name'], len(r['unversioned']),
                                            len(r['unversioned_named']),
                                            ', '.join(sorted(set(r['unversioned']) -
                                                             set(r['unversioned_named']))) or '-'))
    print()
    print('Missed: ' + ('; '.join(misses) if misses else 'none'))
    print()
    print('Wrong version: ' + ('; '.join(extras) if extras else 'none'))
    print()
    print('Products found that the package database does not list (not counted): ' +
          ('; '.join(sorted(set(s.split(': ', 1)[1] for s in static))) if static else 'none'))
    if json_out:
        with open(json_out, 'w') as f:
            json.dump(results, f, indent=1)

main()
