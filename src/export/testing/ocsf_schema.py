#!/usr/bin/env python3
"""Compiles an OCSF class from the schema's source files into a JSON Schema, and validates
records against it with python3-jsonschema.

The OCSF source (github.com/ocsf/ocsf-schema layout: dictionary.json, events/, objects/,
profiles/) describes classes by inheritance (`extends`), included profiles (`$include`), a
shared attribute dictionary with types and enums, and per-object constraints. This script
resolves all of that the way the OCSF server does for its /schema/classes/NAME JSON Schema:

  - every attribute of the class and of each object it reaches, typed from the dictionary
    (string/integer/long/float/boolean/timestamp/json, with the types' regex, max_len and
    range), arrays where `is_array`;
  - `requirement: required` -> required; no other property allowed (additionalProperties
    false), except inside `object`-typed attributes such as `unmapped`;
  - integer enums (`*_id` attributes) restricted to their listed values;
  - object constraints `at_least_one` and `just_one`.

Checks beyond JSON Schema, reported the same way:
  - class_uid, category_uid and type_uid (= class_uid * 100 + activity_id) agree with the class;
  - an attribute that belongs to a profile appears only when metadata.profiles names it;
  - a sibling caption (severity, activity_name, status, action, ...) matches its id's enum
    caption (unless the id is 99, Other);
  - metadata.version is the schema's version.

Usage:
  ocsf_schema.py --schema DIR --class detection_finding validate FILE.jsonl   (exit 1 on errors)
  ocsf_schema.py --schema DIR --class detection_finding jsonschema            (prints it)
  ocsf_schema.py --schema DIR describe OBJECT                                 (attributes)
"""
import argparse
import copy
import glob
import json
import os
import sys


class Schema:
    def __init__(self, root):
        self.root = root
        with open(os.path.join(root, "dictionary.json")) as f:
            d = json.load(f)
        self.dictionary = d["attributes"]
        self.types = d["types"]["attributes"]
        with open(os.path.join(root, "version.json")) as f:
            self.version = json.load(f)["version"]
        self.objects = {}
        for p in glob.glob(os.path.join(root, "objects", "*.json")):
            with open(p) as f:
                o = json.load(f)
            self.objects[o["name"]] = o
        self.events = {}
        for p in glob.glob(os.path.join(root, "events", "**", "*.json"), recursive=True):
            with open(p) as f:
                e = json.load(f)
            self.events[e["name"]] = e
        with open(os.path.join(root, "categories.json")) as f:
            self.categories = json.load(f)["attributes"]
        self._resolved = {}

    # -- attribute resolution -------------------------------------------------------------
    def _include(self, path):
        with open(os.path.join(self.root, path)) as f:
            inc = json.load(f)
        profile = inc["name"] if inc.get("meta") == "profile" else None
        attrs = {}
        for name, a in inc.get("attributes", {}).items():
            if name == "$include":
                continue
            a = dict(a)
            if profile and "profile" not in a:
                a["profile"] = profile
            attrs[name] = a
        return attrs

    @staticmethod
    def _merge(base, over):
        out = copy.deepcopy(base)
        for name, a in over.items():
            if name in out and isinstance(out[name], dict) and isinstance(a, dict):
                merged = dict(out[name])
                merged.update(a)
                # Enums extend the parent's (base_event's 0 Unknown and 99 Other stay).
                if isinstance(out[name].get("enum"), dict) and isinstance(a.get("enum"), dict):
                    merged["enum"] = dict(out[name]["enum"], **a["enum"])
                out[name] = merged
            else:
                out[name] = copy.deepcopy(a)
        return out

    def _own(self, entity):
        attrs = {}
        raw = entity.get("attributes", {})
        for path in raw.get("$include", []) if isinstance(raw.get("$include"), list) else (
                [raw["$include"]] if "$include" in raw else []):
            attrs = self._merge(attrs, self._include(path))
        own = {k: v for k, v in raw.items() if k != "$include"}
        return self._merge(attrs, own)

    def resolve(self, kind, name):
        key = (kind, name)
        if key in self._resolved:
            return self._resolved[key]
        table = self.events if kind == "event" else self.objects
        entity = table[name]
        attrs = {}
        parent = entity.get("extends")
        if parent and parent in table:
            attrs = copy.deepcopy(self.resolve(kind, parent)[1])
        attrs = self._merge(attrs, self._own(entity))
        # Attributes whose class override says profile: null are always available.
        full = {}
        for n, a in attrs.items():
            d = dict(self.dictionary.get(n, {}))
            d.update(a)
            if isinstance(self.dictionary.get(n, {}).get("enum"), dict) and isinstance(a.get("enum"), dict):
                d["enum"] = dict(self.dictionary[n]["enum"], **a["enum"])
            full[n] = d
        self._resolved[key] = (entity, full)
        return entity, full

    # -- JSON Schema ----------------------------------------------------------------------
    def _primitive(self, tname):
        t = self.types.get(tname)
        if t is None:
            return {}
        base = t.get("type", tname)
        if tname in ("string_t",) or base == "string_t":
            s = {"type": "string"}
        elif tname in ("integer_t", "long_t", "timestamp_t", "port_t") or base in ("integer_t", "long_t"):
            s = {"type": "integer"}
        elif tname == "float_t" or base == "float_t":
            s = {"type": "number"}
        elif tname == "boolean_t" or base == "boolean_t":
            s = {"type": "boolean"}
        elif tname == "json_t":
            s = {}
        else:
            s = {}
        if "regex" in t:
            s["pattern"] = t["regex"]
        if "max_len" in t:
            s["maxLength"] = t["max_len"]
        if "range" in t and s.get("type") in ("integer", "number"):
            s["minimum"], s["maximum"] = t["range"]
        if "values" in t:
            s["enum"] = t["values"]
        return s

    def _attr_schema(self, name, a, defs):
        tname = a.get("type", "")
        if tname == "object" or tname == "object_t":
            item = {"type": "object"}
        elif tname.endswith("_t"):
            item = self._primitive(tname)
            if "enum" in a and item.get("type") == "integer":
                item["enum"] = sorted(int(k) for k in a["enum"].keys())
        elif tname in self.objects:
            item = {"$ref": "#/definitions/" + tname}
            self._object_def(tname, defs)
        else:
            item = {}
        if a.get("is_array"):
            return {"type": "array", "items": item}
        return item

    def _object_def(self, name, defs):
        if name in defs:
            return
        defs[name] = {}  # recursion guard
        entity, attrs = self.resolve("object", name)
        defs[name] = self._properties(entity, attrs, defs)

    def _properties(self, entity, attrs, defs, profiles=None):
        props, required = {}, []
        for n, a in attrs.items():
            if n in ("class_uid", "category_uid", "type_uid"):
                a = {k: v for k, v in a.items() if k != "enum"}  # checked by semantic_errors
            props[n] = self._attr_schema(n, a, defs)
            p = a.get("profile")
            if a.get("requirement") == "required" and (profiles is None or not p or p in profiles):
                required.append(n)
        s = {"type": "object", "properties": props, "additionalProperties": False}
        if required:
            s["required"] = sorted(required)
        c = entity.get("constraints", {})
        if "at_least_one" in c:
            s["anyOf"] = [{"required": [x]} for x in c["at_least_one"]]
        if "just_one" in c:
            s["oneOf"] = [{"required": [x]} for x in c["just_one"]]
        return s

    def class_schema(self, cls, profiles=()):
        """The JSON Schema of class `cls` for records that apply `profiles`."""
        entity, attrs = self.resolve("event", cls)
        defs = {}
        s = self._properties(entity, attrs, defs, set(profiles))
        s["$schema"] = "http://json-schema.org/draft-07/schema#"
        s["title"] = entity.get("caption", cls)
        s["definitions"] = defs
        return s

    def class_uid(self, cls):
        entity, _ = self.resolve("event", cls)
        cat = entity.get("category") or self._inherited(cls, "category")
        cat_uid = self.categories[cat]["uid"]
        return cat_uid * 1000 + entity["uid"], cat_uid

    def _inherited(self, cls, key):
        e = self.events[cls]
        while key not in e and e.get("extends") in self.events:
            e = self.events[e["extends"]]
        return e.get(key)

    # -- checks JSON Schema cannot express ------------------------------------------------
    def semantic_errors(self, cls, record):
        errors = []
        _, attrs = self.resolve("event", cls)
        uid, cat_uid = self.class_uid(cls)
        if record.get("class_uid") != uid:
            errors.append("class_uid is %r, the class is %d" % (record.get("class_uid"), uid))
        if record.get("category_uid") != cat_uid:
            errors.append("category_uid is %r, the class's category is %d" % (record.get("category_uid"), cat_uid))
        if isinstance(record.get("activity_id"), int):
            want = uid * 100 + record["activity_id"]
            if record.get("type_uid") != want:
                errors.append("type_uid is %r, expected %d" % (record.get("type_uid"), want))
        profiles = set((record.get("metadata") or {}).get("profiles") or [])
        for n in record:
            p = attrs.get(n, {}).get("profile")
            if p and p not in profiles:
                errors.append("%s belongs to profile %s, which metadata.profiles does not name" % (n, p))
        version = (record.get("metadata") or {}).get("version")
        if version != self.version:
            errors.append("metadata.version is %r, the schema is %s" % (version, self.version))
        self._siblings(record, attrs, "", errors)
        return errors

    def _siblings(self, obj, attrs, path, errors):
        if not isinstance(obj, dict):
            return
        for n, v in obj.items():
            a = attrs.get(n)
            if a is None:
                continue
            sib = a.get("sibling")
            if sib and "enum" in a and isinstance(v, int) and v != 99 and sib in obj:
                cap = a["enum"].get(str(v), {}).get("caption")
                if cap is not None and obj[sib] != cap:
                    errors.append("%s%s is %r but %s %d is %r" % (path, sib, obj[sib], n, v, cap))
            t = a.get("type", "")
            if t in self.objects:
                _, sub = self.resolve("object", t)
                items = v if isinstance(v, list) else [v]
                for i, item in enumerate(items):
                    self._siblings(item, sub, "%s%s%s." % (path, n, "[%d]" % i if isinstance(v, list) else ""), errors)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--schema", required=True)
    ap.add_argument("--class", dest="cls", default="detection_finding")
    sub = ap.add_subparsers(dest="cmd", required=True)
    v = sub.add_parser("validate")
    v.add_argument("file")
    sub.add_parser("jsonschema")
    d = sub.add_parser("describe")
    d.add_argument("object")
    args = ap.parse_args()
    schema = Schema(args.schema)
    if args.cmd == "jsonschema":
        json.dump(schema.class_schema(args.cls), sys.stdout, indent=1)
        return 0
    if args.cmd == "describe":
        kind = "event" if args.object in schema.events else "object"
        entity, attrs = schema.resolve(kind, args.object)
        for n, a in sorted(attrs.items()):
            enum = sorted(a["enum"].keys(), key=lambda k: (len(k), k)) if "enum" in a else ""
            print("%-28s %-22s %-11s %-8s %s %s" % (n, a.get("type"), a.get("requirement"),
                  "[]" if a.get("is_array") else "", a.get("profile") or "",
                  {k: a["enum"][k].get("caption") for k in enum} if enum else ""))
        return 0
    import jsonschema  # Debian python3-jsonschema
    validators = {}
    failures = 0
    count = 0
    with open(args.file) as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            count += 1
            record = json.loads(line)
            profiles = tuple(sorted((record.get("metadata") or {}).get("profiles") or []))
            if profiles not in validators:
                validators[profiles] = jsonschema.Draft7Validator(schema.class_schema(args.cls, profiles))
            validator = validators[profiles]
            errs = ["%s: %s" % ("/".join(str(p) for p in e.absolute_path) or "(record)", e.message)
                    for e in validator.iter_errors(record)]
            errs += schema.semantic_errors(args.cls, record)
            if errs:
                failures += 1
                print("record %d (line %d) is not a valid %s:" % (count, lineno, args.cls))
                for e in errs[:20]:
                    print("  " + e)
    print("%d records, %d valid, %d invalid against OCSF %s %s" % (
        count, count - failures, failures, schema.version, args.cls))
    return 1 if failures or count == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
