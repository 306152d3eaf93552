#!/usr/bin/env python3
"""tests/cli/schema_check.py — validates FRESH cidrscope output against its
JSON Schema in docs/schema/ (Draft 2020-12, python3-jsonschema).

usage: schema_check.py SCHEMA FILE          one JSON document
       schema_check.py --ndjson SCHEMA FILE  one object a line, each against
                                             the schema's $defs/ndjson, each
                                             with a "type"
Exits 1 naming the first violation (file, line, JSON path)."""
import json
import sys

import jsonschema


def main(argv):
    nd = argv[1:2] == ["--ndjson"]
    if nd:
        argv = argv[1:]
    schema_path, path = argv[1], argv[2]
    schema = json.load(open(schema_path, encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    if nd:
        schema = {"$defs": schema["$defs"], "$ref": "#/$defs/ndjson"}
    v = jsonschema.Draft202012Validator(schema)
    if nd:
        docs = []
        for n, line in enumerate(open(path, encoding="utf-8"), 1):
            d = json.loads(line)
            if not isinstance(d, dict) or "type" not in d:
                sys.exit("%s:%d: an NDJSON record without \"type\"" % (path, n))
            docs.append((n, d))
        if not docs:
            sys.exit("%s: no records" % path)
    else:
        docs = [(0, json.load(open(path, encoding="utf-8")))]
    for n, d in docs:
        err = jsonschema.exceptions.best_match(v.iter_errors(d))
        if err is not None:
            where = "/".join(str(p) for p in err.absolute_path)
            sys.exit("%s:%d: %s at /%s" % (path, n, err.message[:300], where))


if __name__ == "__main__":
    main(sys.argv)
