"""The one configuration system of orrery: typed pydantic models, validated on load, with named
presets, YAML files and flat `a.b=value` overrides. Every part defines its config classes next to
its code, subclassing `Config`; this module turns files, presets and `--set` items into them.

Errors are `ConfigError(path, reason)`: one line naming the field's full path and what was
expected, raised before any work starts. A leaf: it imports nothing else of orrery."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

T = TypeVar("T", bound=BaseModel)

# A YAML document that expands to more nodes than this (anchors and aliases multiply nodes) is
# refused before it is built: an "alias bomb" of a few hundred bytes otherwise takes all memory.
MAX_YAML_NODES = 200_000
MAX_YAML_BYTES = 16 << 20  # a config or spec file larger than this is refused unread


class ConfigError(ValueError):
    """A config value is invalid; the message names the field path and what was expected."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        super().__init__(f"{path or '<config>'}: {reason}")


class Config(BaseModel):
    """Base of every config: unknown keys fail, assignments are validated, NaN and inf are refused."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True, allow_inf_nan=False,
                              protected_namespaces=())


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


_SHORT = {"int_parsing": "expected an integer", "int_type": "expected an integer",
          "int_from_float": "expected an integer", "float_parsing": "expected a number",
          "float_type": "expected a number", "bool_parsing": "expected true or false",
          "bool_type": "expected true or false", "string_type": "expected a string",
          "tuple_type": "expected a list", "list_type": "expected a list",
          "finite_number": "must be a finite number", "dict_type": "expected a mapping",
          "model_type": "expected a mapping", "model_attributes_type": "expected a mapping"}


def from_validation(err: ValidationError, prefix: str = "", cls: type | None = None) -> ConfigError:
    """A pydantic ValidationError as one ConfigError: the first bad field's path and reason, then
    the others on the same line."""
    errors = [_one(e, prefix, cls) for e in err.errors()]
    first = errors[0]
    if len(errors) == 1:
        return first
    rest = "; ".join(str(e) for e in errors[1:4]) + (f"; and {len(errors) - 4} more" if len(errors) > 4 else "")
    out = ConfigError(first.path, f"{first.reason} (also: {rest})")
    return out


def _one(e: dict, prefix: str, cls: type | None) -> ConfigError:
    path = prefix
    for part in e["loc"]:
        path = join(path, part)
    inner = (e.get("ctx") or {}).get("error")
    if isinstance(inner, ConfigError):  # raised by a validator with its own sub-path
        return ConfigError(join(path, inner.path) if inner.path else path, inner.reason)
    kind = e["type"]
    if kind == "extra_forbidden":
        return ConfigError(path, "unknown key" + (f"; expected one of {', '.join(_fields_at(cls, e['loc']))}"
                                                  if cls is not None else ""))
    if kind == "literal_error":
        return ConfigError(path, f"expected one of {e['ctx']['expected']}, got {e.get('input')!r}")
    if kind == "missing":
        return ConfigError(path, "required, but not given")
    msg = _SHORT.get(kind) or e["msg"].removeprefix("Value error, ").removeprefix("Assertion failed, ")
    if kind in _SHORT or "input" in e and not isinstance(e.get("input"), (dict, BaseModel)):
        if "got" not in msg:
            msg += f", got {e.get('input')!r}"
    return ConfigError(path, msg)


def _fields_at(cls: type | None, loc: tuple) -> list[str]:
    """Field names of the config class the error location points into (for 'unknown key')."""
    node = cls
    for part in loc[:-1]:
        if node is None or not (isinstance(node, type) and issubclass(node, BaseModel)):
            return []
        field = node.model_fields.get(str(part))
        node = getattr(field, "annotation", None) if field else None
    if isinstance(node, type) and issubclass(node, BaseModel):
        return sorted(node.model_fields)
    return []


def validate(cls: type[T], data: Any, path: str = "") -> T:
    """A (nested) mapping -> `cls`, or ConfigError naming the first bad field's path."""
    if data is None:
        data = {}
    if isinstance(data, cls):
        return data
    if not isinstance(data, Mapping):
        raise ConfigError(path, f"expected a mapping for {cls.__name__}, got {data!r}")
    try:
        return cls.model_validate(dict(data))
    except ValidationError as err:
        raise from_validation(err, path, cls) from None


def to_dict(cfg: Any) -> Any:
    """A config as plain JSON/YAML-able data (tuples become lists)."""
    if isinstance(cfg, BaseModel):
        return cfg.model_dump(mode="json")
    return cfg


def dump_yaml(cfg: Any) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)


def merge(base: Mapping[str, Any], update: Mapping[str, Any]) -> dict:
    """Deep-merge `update` into a copy of `base` (mappings merge, everything else replaces)."""
    out = dict(base)
    for k, v in update.items():
        if isinstance(v, Mapping) and isinstance(out.get(k), Mapping):
            out[k] = merge(out[k], v)
        else:
            out[k] = v
    return out


def parse_sets(items: Sequence[str]) -> dict:
    """`["train.lr=3e-4", "model.channels=[32,64]"]` -> nested dict. Values are parsed as YAML
    scalars or lists (never evaluated as code); a numeric key part indexes a list
    (`scenarios.0.clips.train=8`)."""
    out: dict = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(item, "a setting must read key=value (e.g. train.lr=3e-4)")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key or any(not part for part in key.split(".")):
            raise ConfigError(item, "empty key in setting")
        try:
            value = safe_load_text(raw, key) if raw.strip() else ""
        except ConfigError as e:
            raise ConfigError(key, f"cannot parse value {raw!r}: {e.reason}") from None
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
                raise ConfigError(key, "conflicting settings")
        node[parts[-1]] = value
    return out


def apply_sets(data: Any, sets: Mapping[str, Any], path: str = "") -> Any:
    """Merge parsed settings into data whose lists may be indexed by numeric keys."""
    if isinstance(data, list):
        out = list(data)
        for k, v in sets.items():
            if not str(k).isdigit() or int(k) >= len(out):
                raise ConfigError(join(path, k), f"no item {k} in a list of {len(out)}")
            i = int(k)
            out[i] = apply_sets(out[i], v, join(path, i)) if isinstance(v, Mapping) else v
        return out
    if isinstance(data, Mapping):
        out = dict(data)
        for k, v in sets.items():
            if isinstance(v, Mapping) and isinstance(out.get(k), (Mapping, list)):
                out[k] = apply_sets(out[k], v, join(path, k))
            else:
                out[k] = v
        return out
    return sets


def resolve(cls: type[T], presets: Mapping[str, Mapping[str, Any]] | None = None, preset: str | None = None,
            sets: Sequence[str] = (), base: Mapping[str, Any] | None = None) -> T:
    """class defaults <- preset <- base (e.g. a YAML file) <- `key=value` settings, validated."""
    data: dict = {}
    if presets is not None:
        if preset not in presets:
            raise ConfigError("preset", f"unknown preset {preset!r}; choose one of {', '.join(presets)}")
        data = dict(presets[preset])
    data = merge(data, base or {})
    data = apply_sets(data, parse_sets(sets))
    return validate(cls, with_defaults(cls, data))


def with_defaults(cls: type[BaseModel], data: Mapping[str, Any]) -> dict:
    """A nested config given in part keeps its default's other fields: `--set
    model.denoiser.sigma_data=0.3` changes one number of the family's default denoiser instead of
    asking for every field of it (a default from a `default_factory` is otherwise lost)."""
    out = dict(data)
    for name, field in cls.model_fields.items():
        sub = out.get(name)
        if not isinstance(sub, Mapping):
            continue
        default = field.get_default(call_default_factory=True)
        if isinstance(default, BaseModel):
            out[name] = with_defaults(type(default), merge(default.model_dump(), sub))
        elif isinstance(field.annotation, type) and issubclass(field.annotation, BaseModel):
            out[name] = with_defaults(field.annotation, sub)
    return out


# ---- YAML -------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """safe_load that refuses duplicate keys and documents that expand beyond MAX_YAML_NODES."""

    def compose_document(self):
        node = super().compose_document()
        _check_size(node)
        return node

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            try:
                dup = key in seen
            except TypeError:
                raise yaml.constructor.ConstructorError(None, None, f"unhashable key {key!r}",
                                                        key_node.start_mark) from None
            if dup:
                raise yaml.constructor.ConstructorError(None, None, f"duplicate key {key!r}",
                                                        key_node.start_mark)
            seen.add(key)
        return super().construct_mapping(node, deep)


def _check_size(root) -> None:
    sizes: dict[int, int] = {}
    stack = [(root, False)]
    while stack:  # iterative post-order: deep nesting must not overflow Python's stack
        node, done = stack.pop()
        if id(node) in sizes:
            continue
        children = []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for kv in node.value for n in kv]
        if done:
            total = 1 + sum(sizes[id(c)] for c in children)
            if total > MAX_YAML_NODES:
                raise yaml.YAMLError(f"the document expands to more than {MAX_YAML_NODES} nodes "
                                     "(aliases of aliases?); refused")
            sizes[id(node)] = total
            continue
        stack.append((node, True))
        stack.extend((c, False) for c in children if id(c) not in sizes)


def safe_load_text(text: str, source: str = "config") -> Any:
    """YAML text -> data, or ConfigError(source, reason) for invalid or hostile YAML."""
    try:
        return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader
    except RecursionError:
        raise ConfigError(source, "not valid YAML: nested too deeply") from None
    except yaml.MarkedYAMLError as e:  # the problem and where it is, without the echoed source
        mark = e.problem_mark or e.context_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        reason = " ".join(str(e.problem or e.context or e).split())
        raise ConfigError(source, f"not valid YAML: {reason}{where}") from None
    except yaml.YAMLError as e:
        reason = " ".join(str(e).split())
        raise ConfigError(source, f"not valid YAML: {reason}") from None


def load_yaml(path: str | Path, what: str = "config") -> Any:
    """Read a YAML file: a missing file, a folder, non-UTF-8 bytes or invalid YAML is one ConfigError."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(str(path), f"no such {what} file")
    if path.is_dir():
        raise ConfigError(str(path), f"is a folder, not a {what} file")
    if not path.is_file():  # a FIFO or device: reading it could wait forever
        raise ConfigError(str(path), f"not a regular file (a FIFO or device?); give a {what} file")
    if path.stat().st_size > MAX_YAML_BYTES:
        raise ConfigError(str(path), f"{path.stat().st_size} bytes; a {what} file may have at most {MAX_YAML_BYTES}")
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(str(path), f"not UTF-8 text (byte {e.start}); save the {what} as UTF-8") from None
    except OSError as e:
        raise ConfigError(str(path), f"cannot read ({e.strerror or e})") from None
    return safe_load_text(text, str(path))


def load_mapping(source: str | Path | Mapping | None, sets: Sequence[str] = (), what: str = "config") -> dict:
    """A YAML file (or a mapping already in hand, or None for {}) with `--set a.b=v` items applied;
    anything but a mapping at the top level is one ConfigError."""
    data = load_yaml(source, what) if isinstance(source, (str, Path)) else source
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(str(source) if isinstance(source, (str, Path)) else what,
                          f"expected a mapping at the top level, got {type(data).__name__}")
    return apply_sets(dict(data), parse_sets(list(sets))) if sets else dict(data)


def load(cls: type[T], path: str | Path | None = None, sets: Sequence[str] = (),
         presets: Mapping[str, Mapping[str, Any]] | None = None, preset: str | None = None) -> T:
    """`--config FILE` and `--set a.b=v` (and an optional preset under them) -> a validated config."""
    base = None
    if path is not None:
        base = load_yaml(path)
        if base is not None and not isinstance(base, Mapping):
            raise ConfigError(str(path), f"expected a mapping at the top level, got {type(base).__name__}")
    return resolve(cls, presets, preset, sets, base)
