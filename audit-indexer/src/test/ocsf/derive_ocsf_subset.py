#!/usr/bin/env python3
"""Derives src/test/resources/ocsf/ocsf-1.8.0-subset.json from a checkout of ocsf/ocsf-schema.

The OCSF schema (https://github.com/ocsf/ocsf-schema) is licensed under Apache-2.0. This script
resolves the classes and objects Gatehouse emits (extends chains, $include of profiles and
includes, dictionary types and enums) into one flat file that OcsfDefinitionCheck reads.

Usage: derive_ocsf_subset.py GIT_DIR TAG > ocsf-1.8.0-subset.json
"""
import json
import subprocess
import sys

GIT_DIR, TAG = sys.argv[1], sys.argv[2]
CLASSES = {"datastore_activity": "events/application/datastore_activity.json",
           "authentication": "events/iam/authentication.json"}
OBJECTS = ["metadata", "product", "actor", "user", "group", "organization", "network_endpoint",
           "query_info", "database", "table", "policy", "session", "service", "idp"]


def show(path):
    out = subprocess.run(["git", "--git-dir", GIT_DIR, "show", f"{TAG}:{path}"], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


DICTIONARY = show("dictionary.json")
CATEGORIES = show("categories.json")["attributes"]
TYPES = DICTIONARY["types"]["attributes"]


def merge_attr(into, attr, profile):
    merged = dict(into)
    for k, v in attr.items():
        if k == "enum":
            enum = dict(merged.get("enum", {}))
            enum.update(v)
            merged["enum"] = enum
        else:
            merged[k] = v
    if profile is not None and "profile" not in attr:
        merged.setdefault("profile", profile)
    return merged


def own_attributes(doc, attrs):
    """Applies doc's $include files, then its own attributes, onto attrs."""
    for inc in doc.get("attributes", {}).get("$include", []):
        included = show(inc)
        profile = included.get("name") if inc.startswith("profiles/") else None
        for name, attr in included.get("attributes", {}).items():
            attrs[name] = merge_attr(attrs.get(name, {}), attr, profile)
    for name, attr in doc.get("attributes", {}).items():
        if name == "$include":
            continue
        attrs[name] = merge_attr(attrs.get(name, {}), attr, None)
    return attrs


def flatten(attrs):
    flat = {}
    for name, attr in sorted(attrs.items()):
        entry = DICTIONARY["attributes"].get(name)
        if entry is None:
            raise SystemExit(f"attribute {name} is not in the dictionary")
        enum = dict(entry.get("enum", {}))
        enum.update(attr.get("enum", {}))
        typ = attr.get("type", entry["type"])
        out = {"requirement": attr.get("requirement", "optional")}
        if typ == "object" or typ in TYPES:
            out["type"] = typ
        else:
            out["object"] = typ
        if entry.get("is_array"):
            out["is_array"] = True
        if enum:
            out["enum"] = {k: enum[k].get("caption", "") for k in sorted(enum, key=int)}
        if entry.get("sibling"):
            out["sibling"] = entry["sibling"]
        if attr.get("profile"):
            out["profile"] = attr["profile"]
        if "@deprecated" in attr or "@deprecated" in entry:
            out["deprecated"] = True
        flat[name] = out
    return flat


def resolve_class(path):
    chain = [show(path)]
    while chain[-1].get("extends"):
        parent = chain[-1]["extends"]
        chain.append(show("events/base_event.json") if parent == "base_event"
                     else show(f"events/{path.split('/')[1]}/{parent}.json"))
    attrs = {}
    for doc in reversed(chain):
        own_attributes(doc, attrs)
    cls = chain[0]
    category = next(d.get("category") for d in chain if d.get("category"))
    category_uid = CATEGORIES[category]["uid"]
    class_uid = category_uid * 1000 + cls["uid"]
    flat = flatten(attrs)
    # base_event's enums name only the base class and category; a class admits its own ids only
    flat["class_uid"]["enum"] = {str(class_uid): cls["caption"]}
    flat["category_uid"]["enum"] = {str(category_uid): CATEGORIES[category]["caption"]}
    return {"uid": cls["uid"], "category": category, "category_uid": category_uid, "class_uid": class_uid,
            "constraints": cls.get("constraints", {}), "attributes": flat}


def resolve_object(name):
    chain = [show(f"objects/{name}.json")]
    while chain[-1].get("extends") and chain[-1]["extends"] != "object":
        chain.append(show(f"objects/{chain[-1]['extends']}.json"))
    attrs = {}
    for doc in reversed(chain):
        own_attributes(doc, attrs)
    constraints = next((d["constraints"] for d in chain if d.get("constraints")), {})
    return {"constraints": constraints, "attributes": flatten(attrs)}


result = {
    "_source": f"Derived from https://github.com/ocsf/ocsf-schema at tag {TAG} (events, objects, profiles, "
               "includes, dictionary.json, categories.json) by src/test/ocsf/derive_ocsf_subset.py.",
    "_license": "OCSF schema: Copyright the OCSF authors, Apache License 2.0 "
                "(https://www.apache.org/licenses/LICENSE-2.0).",
    "version": show("version.json")["version"],
    "types": {k: (v.get("type") or k) for k, v in sorted(TYPES.items())},
    "classes": {name: resolve_class(path) for name, path in CLASSES.items()},
    "objects": {name: resolve_object(name) for name in OBJECTS},
}
json.dump(result, sys.stdout, indent=1, sort_keys=False)
print()
