"""The schema of clip records (`KEY.json`) over a whole dataset, so a reader that builds one table
of them (Hugging Face `datasets`, Arrow) sees every field of every clip, not only those of the
first shard it opens (a collisions_2d clip's `count` and `speed` parameters, absent from bounce).

A type is a name ('null', 'bool', 'int64', 'float64', 'string') or {'list': T} or
{'struct': {field: T}}: JSON-able, so each shard's sidecar carries the schema of its clips and a
dataset's is their merge (`merge`), computed without reading the shards again."""

from __future__ import annotations

from collections.abc import Iterable

Type = str | dict


def type_of(value) -> Type:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int64"
    if isinstance(value, float):
        return "float64"
    if isinstance(value, str):
        return "string"
    if isinstance(value, (list, tuple)):
        if value and all(type(v) is float for v in value):  # the bulk of a record: states, energies
            return {"list": "float64"}
        if value and all(type(v) is list for v in value):
            return {"list": merge_all(type_of(v) for v in value)}
        inner: Type = "null"
        for v in value:
            inner = merge(inner, type_of(v))
        return {"list": inner}
    if isinstance(value, dict):
        return {"struct": {str(k): type_of(value[k]) for k in sorted(value)}}
    raise ValueError(f"schema: a {type(value).__name__} is not a JSON value")


def merge(a: Type, b: Type) -> Type:
    """The type holding values of both: null joins anything, int64 widens to float64, lists merge
    their items, structs take every field of both; any other mix is 'string' (a conflict)."""
    if a == b:
        return a
    if a == "null":
        return b
    if b == "null":
        return a
    if isinstance(a, str) and isinstance(b, str) and {a, b} == {"int64", "float64"}:
        return "float64"
    if isinstance(a, dict) and isinstance(b, dict):
        if "list" in a and "list" in b:
            return {"list": merge(a["list"], b["list"])}
        if "struct" in a and "struct" in b:
            fields = dict(a["struct"])
            for k, t in b["struct"].items():
                fields[k] = merge(fields.get(k, "null"), t)
            return {"struct": dict(sorted(fields.items()))}
    return "string"


def merge_all(types: Iterable[Type]) -> Type:
    out: Type = "null"
    for t in types:
        if t != out:
            out = merge(out, t)
    return out


def scan_schema(shards: Iterable) -> tuple[Type, set[str]]:
    """The merged schema of every KEY.json in `shards` (tar paths), and the member extensions seen:
    for datasets written without per-shard schemas (curate, older simulate runs)."""
    from .jsonfile import load_json
    from .shards import read_shard

    out: Type = "null"
    members: set[str] = set()
    for path in shards:
        for key, sample in read_shard(path):
            members |= set(sample)
            if "json" in sample:
                out = merge(out, type_of(load_json(sample["json"], f"{path}: {key}.json")))
    return out, members


def to_hf_yaml(t: Type) -> dict | str:
    """A type in the Hugging Face `features` YAML form: {'dtype': T}, {'list': ...} or
    {'struct': [{'name': ..., ...}]} (the inner part of a list is the bare form)."""
    if isinstance(t, str):
        return {"dtype": t}
    if "list" in t:
        inner = t["list"]
        return {"list": inner if isinstance(inner, str) else _bare(to_hf_yaml(inner))}
    return {"struct": [{"name": k, **to_hf_yaml(v)} for k, v in t["struct"].items()]}


def _bare(y: dict):
    return y["struct"] if "struct" in y else y
