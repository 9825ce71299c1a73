#!/usr/bin/env python3
"""Validates a JSON document against a JSON schema, offline.

Usage: validate.py SCHEMA DOCUMENT [SCHEMA_DIR]

The CycloneDX 1.6 schema refers to spdx.schema.json and jsf-0.82.schema.json by relative (and
absolute cyclonedx.org) URIs; every *.schema.json in SCHEMA_DIR (default: SCHEMA's directory) is
registered under its file name and its $id, so nothing is fetched from the network. Exits 0 when
valid, 1 with every error printed otherwise, 2 on usage errors.
"""
import json
import os
import sys

import jsonschema


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    schema_path, doc_path = argv[1], argv[2]
    schema_dir = argv[3] if len(argv) > 3 else os.path.dirname(os.path.abspath(schema_path))
    with open(schema_path, encoding="utf-8") as f:
        schema = json.load(f)
    with open(doc_path, encoding="utf-8") as f:
        doc = json.load(f)
    store = {}
    for name in sorted(os.listdir(schema_dir)):
        if not name.endswith(".json"):
            continue
        with open(os.path.join(schema_dir, name), encoding="utf-8") as f:
            s = json.load(f)
        store[name] = s
        if isinstance(s, dict) and "$id" in s:
            store[s["$id"]] = s
            store["http://cyclonedx.org/schema/" + name] = s
    cls = jsonschema.validators.validator_for(schema)
    try:  # jsonschema >= 4.18: the referencing registry
        from referencing import Registry, Resource
        from referencing.jsonschema import DRAFT7
        registry = Registry().with_resources(
            (uri, Resource.from_contents(s, default_specification=DRAFT7))
            for uri, s in store.items())
        validator = cls(schema, registry=registry, format_checker=cls.FORMAT_CHECKER)
    except ImportError:  # Debian 12's jsonschema 4.10: RefResolver
        resolver = jsonschema.RefResolver.from_schema(schema, store=store)
        validator = cls(schema, resolver=resolver, format_checker=cls.FORMAT_CHECKER)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors:
        print("/".join(str(p) for p in e.absolute_path) + ": " + e.message, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
