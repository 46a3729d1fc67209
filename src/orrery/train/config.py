"""Typed configuration: nested dataclasses built from plain dicts, validated on load, with named
presets and flat `a.b=value` overrides.

Every trainable part defines its own top-level config dataclass next to its code (for example a
world model's `{model, data, train}`), and a table of presets that differ only in numbers. This
module is the one place that turns dicts, YAML and CLI overrides into those dataclasses: unknown
keys and wrong types fail with the field's full path before any work starts."""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeVar

import yaml

T = TypeVar("T")


class ConfigError(ValueError):
    """A config value is invalid; the message names the field path and what was expected."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path or '<config>'}: {reason}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _coerce(tp: Any, value: Any, path: str) -> Any:
    """Check `value` against the annotation `tp`; return it converted (lists -> tuples, int -> float)."""
    origin = typing.get_origin(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        if isinstance(value, tp):
            return value
        return from_dict(tp, value, path)
    if origin is Literal:
        choices = typing.get_args(tp)
        if value not in choices:
            raise ConfigError(path, f"expected one of {list(choices)}, got {value!r}")
        return value
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _coerce(arg, value, path)
            except ConfigError as e:
                errors.append(e.reason)
        raise ConfigError(path, " or ".join(errors))
    if origin in (tuple, list):
        if not isinstance(value, Sequence) or isinstance(value, str):
            raise ConfigError(path, f"expected a list, got {value!r}")
        args = typing.get_args(tp)
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            items = [_coerce(args[0], v, f"{path}[{i}]") for i, v in enumerate(value)]
        elif origin is tuple and args:
            if len(args) != len(value):
                raise ConfigError(path, f"expected {len(args)} items, got {len(value)}")
            items = [_coerce(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, value, strict=True))]
        else:
            item_tp = args[0] if args else Any
            items = [_coerce(item_tp, v, f"{path}[{i}]") for i, v in enumerate(value)]
        return tuple(items) if origin is tuple else items
    if tp is bool:
        if not isinstance(value, bool):
            raise ConfigError(path, f"expected true or false, got {value!r}")
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(path, f"expected an integer, got {value!r}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ConfigError(path, f"expected a number, got {value!r}")
        return float(value)
    if tp is str:
        if not isinstance(value, str):
            raise ConfigError(path, f"expected a string, got {value!r}")
        return value
    raise ConfigError(path, f"unsupported annotation {tp!r}")


def from_dict(cls: type[T], data: Mapping[str, Any] | None, path: str = "") -> T:
    """Build dataclass `cls` from a (nested) mapping; missing keys take defaults, unknown keys fail."""
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(path, f"expected a mapping for {cls.__name__}, got {data!r}")
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise ConfigError(_join(path, str(unknown[0])),
                          f"unknown key; {cls.__name__} has {', '.join(sorted(fields))}")
    kwargs = {name: _coerce(hints[name], value, _join(path, name)) for name, value in data.items()}
    try:
        obj = cls(**kwargs)
    except TypeError as e:  # a field without default that was not given
        raise ConfigError(path, str(e)) from None
    check = getattr(obj, "validate", None)
    if callable(check):
        try:
            check()
        except ValueError as e:
            if isinstance(e, ConfigError):
                raise ConfigError(_join(path, e.path), e.reason) from None
            raise ConfigError(path, str(e)) from None
    return obj


def to_dict(cfg: Any) -> dict:
    """A config as plain JSON/YAML-able data (tuples become lists)."""
    def plain(v: Any) -> Any:
        if dataclasses.is_dataclass(v):
            return {f.name: plain(getattr(v, f.name)) for f in dataclasses.fields(v)}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        return v
    return plain(cfg)


def merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict:
    """Deep-merge `update` into a copy of `base` (mappings merge, everything else replaces)."""
    out = dict(base)
    for k, v in update.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def parse_overrides(items: Sequence[str]) -> dict:
    """`["train.lr=3e-4", "model.channels=[32,64]"]` -> nested dict. Values are parsed as YAML
    scalars/lists (never evaluated as code)."""
    out: dict = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(item, "an override must read key=value (e.g. train.lr=3e-4)")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key or any(not part for part in key.split(".")):
            raise ConfigError(item, "empty key in override")
        try:
            value = yaml.safe_load(raw) if raw.strip() else ""
        except yaml.YAMLError as e:
            raise ConfigError(key, f"cannot parse value {raw!r}: {e}") from None
        if isinstance(value, str):
            try:  # YAML 1.1 reads '3e-4' (no dot) as a string; a number is what anyone means
                value = float(value)
            except ValueError:
                pass
        node = out
        parts = key.split(".")
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(key, "conflicting overrides")
        node[parts[-1]] = value
    return out


def resolve(cls: type[T], presets: Mapping[str, Mapping[str, Any]], preset: str,
            overrides: Sequence[str] = (), base: Mapping[str, Any] | None = None) -> T:
    """defaults <- preset <- base (e.g. a YAML file) <- `key=value` overrides, validated as `cls`."""
    if preset not in presets:
        raise ConfigError("preset", f"unknown preset {preset!r}; choose one of {', '.join(presets)}")
    data = merge(presets[preset], base or {})
    data = merge(data, parse_overrides(overrides))
    return from_dict(cls, data)


def dump_yaml(cfg: Any) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def load_yaml(cls: type[T], text: str) -> T:
    return from_dict(cls, yaml.safe_load(text) or {})
