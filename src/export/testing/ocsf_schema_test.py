#!/usr/bin/env python3
"""export.ocsf_schema: every OCSF record vigil_export_samples prints validates against the
Detection Finding class compiled from the OCSF schema source (ocsf_schema.py), and a record
broken on purpose does not (so the validator is not vacuous)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", required=True)
    ap.add_argument("--schema", required=True)
    args = ap.parse_args()
    if not os.path.isfile(os.path.join(args.schema, "dictionary.json")):
        print("SKIP: no OCSF schema at %s" % args.schema)
        return 77
    try:
        import jsonschema  # noqa: F401  (Debian python3-jsonschema)
    except ImportError:
        print("SKIP: python3-jsonschema is not installed")
        return 77
    import ocsf_schema
    out = subprocess.run([args.samples, "ocsf"], check=True, capture_output=True, text=True).stdout
    records = [json.loads(l) for l in out.splitlines() if l.strip()]
    assert len(records) >= 10, "too few samples"
    schema = ocsf_schema.Schema(args.schema)
    import jsonschema
    failures = 0
    validators = {}

    def errors_of(r):
        profiles = tuple(sorted((r.get("metadata") or {}).get("profiles") or []))
        if profiles not in validators:
            validators[profiles] = jsonschema.Draft7Validator(schema.class_schema("detection_finding", profiles))
        errs = ["%s: %s" % ("/".join(map(str, e.absolute_path)) or "(record)", e.message)
                for e in validators[profiles].iter_errors(r)]
        return errs + schema.semantic_errors("detection_finding", r)

    for i, r in enumerate(records):
        errs = errors_of(r)
        if errs:
            failures += 1
            print("record %d (%s) invalid:\n  %s" % (i, r.get("finding_info", {}).get("uid"), "\n  ".join(errs[:10])))
    # Broken on purpose: each must fail.
    bad = []
    r = json.loads(json.dumps(records[0])); del r["finding_info"]; bad.append(("no finding_info", r))
    r = json.loads(json.dumps(records[0])); r["severity_id"] = 42; bad.append(("bad severity_id", r))
    r = json.loads(json.dumps(records[0])); r["type_uid"] = 200402; bad.append(("bad type_uid", r))
    r = json.loads(json.dumps(records[0])); r["vigil"] = 1; bad.append(("unknown attribute", r))
    r = json.loads(json.dumps(records[0])); r["severity"] = "Low"; bad.append(("caption mismatch", r))
    r = json.loads(json.dumps(records[0])); r["metadata"]["profiles"] = []; bad.append(("undeclared profile", r))
    r = json.loads(json.dumps(records[0])); r["evidences"][0]["src_endpoint"]["ip"] = "not-an-ip"; bad.append(("bad ip", r))
    for name, r in bad:
        if not errors_of(r):
            failures += 1
            print("a record with %s passed validation" % name)
    print("%d passed, %d failed" % (len(records) + len(bad) - failures, failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
