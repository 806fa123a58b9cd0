"""The model's axes, TensorFlow-free: each a registry of values, each value one file that declares its fields.

An axis is a config key and a flag: ``model`` (the kinds), ``prior``, ``posterior`` and ``objective``. A value
of an axis is a class in its own file, decorated with its axis' ``register``: its ``name`` (the flag's value),
its one-line ``help``, its own ``Field``\\ s (config keys and flags only it takes) and its traits. Importing it
imports no TensorFlow; its maths methods import TensorFlow when they first run.

The command line's choices and flags, ``VAEConfig``'s per-value fields, the test harness's rows and the
README's tables are read from here (``Registry.names``, ``fields``, ``markdown_table``). Other packages add
values through an axis' entry-point group (``tfvae.kinds``, ``tfvae.priors``, ...).
"""

import dataclasses
import importlib.metadata
import sys
from typing import Any

from tfvae.errors import TfvaeError

# What a field's value is: how the config normalises it and how the command line parses it.
FIELD_TYPES = ("int", "float", "widths", "bool")


@dataclasses.dataclass(frozen=True)
class Field:
    """One config field an axis value owns (``config.json`` key, ``--NAME`` flag).

    Attributes:
        name: the key and the flag's name.
        default: its value when not given (0 / () mean "derive it in ``check``").
        help: the flag's help, without the values' names (the flag adds them).
        type: one of ``FIELD_TYPES``: ``int`` (>= ``minimum``), ``float``,
            ``widths`` (positive layer widths, ``512,256`` on the command line) or ``bool``.
        minimum: the smallest value an ``int`` field takes on the command line.
    """

    name: str
    default: Any
    help: str
    type: str = "int"
    minimum: int = 1

    def normalise(self, value):
        if self.type == "widths":
            return tuple(int(v) for v in value)
        return {"int": int, "float": float, "bool": bool}[self.type](value)

    def to_json(self, value):
        return list(value) if self.type == "widths" else value


# Every axis of the model's config, in the order the config and the flags list them (filled by Registry());
# OTHER_AXES has those outside it too (a field name is one field across all of them).
AXES = {}
OTHER_AXES = {}


class Registry:
    """The values of one axis, by name: the built-in ones, then those other packages register.

    Args:
        axis: the config key and flag (``--prior``).
        default: the value of a config that does not name one (old ``config.json`` files).
        entry_point_group: where other packages name the modules that register their values.
        model_axis: a field of the model's config (``VAEConfig``); False for an axis outside it (the
            post-hoc samplers, fitted to a trained model).
    """

    def __init__(self, axis, default, entry_point_group, model_axis=True):
        self.axis, self.default, self.group = axis, default, entry_point_group
        self.values = {}
        self._plugins_loaded = False
        if model_axis:
            AXES[axis] = self
        OTHER_AXES[axis] = self

    def register(self, cls):
        """Class decorator: registers a value under its ``name`` (an identifier). Returns the class."""
        if not (isinstance(cls.name, str) and cls.name.isidentifier()):
            raise ValueError(f"a --{self.axis} value needs a name that is an identifier, got {cls.name!r}")
        for f in cls.fields:
            if f.type not in FIELD_TYPES:
                raise ValueError(f"--{self.axis} {cls.name}: field {f.name} has type {f.type!r}, not one of "
                                 f"{FIELD_TYPES}")
            for registry in OTHER_AXES.values():
                for other in registry.values.values():
                    same = registry is self and other.name == cls.name
                    if not same and any(g.name == f.name and g != f for g in other.fields):
                        raise ValueError(f"--{self.axis} {cls.name}: field {f.name} is declared differently by "
                                         f"--{registry.axis} {other.name}")
        self.values[cls.name] = cls()
        return cls

    def load_plugins(self):
        """Imports the modules of this axis' entry-point group (once); each registers its value."""
        if self._plugins_loaded:
            return
        self._plugins_loaded = True
        for entry in importlib.metadata.entry_points(group=self.group):
            try:
                entry.load()
            except Exception as e:  # a broken plugin must not break tfvae for every other value
                text = str(e).splitlines()[0][:200] if str(e) else ""
                print(f"tfvae: warning: {self.axis} plugin {entry.name} ({entry.value}) failed to load: "
                      f"{type(e).__name__}: {text}", file=sys.stderr)

    def names(self):
        """Every value's name: the built-in ones first, then plugins in the order they registered."""
        self.load_plugins()
        return tuple(self.values)

    def get(self, name):
        """The value registered as ``name``; a ``TfvaeError`` naming the choices otherwise."""
        self.load_plugins()
        try:
            return self.values[name]
        except KeyError:
            raise TfvaeError(f"--{self.axis} must be one of {', '.join(self.values)}, got {name!r}") from None

    def fields(self):
        """Every value's own fields, by name: ``{name: (Field, [values declaring it])}``."""
        out = {}
        for name in self.names():
            for f in self.values[name].fields:
                out.setdefault(f.name, (f, []))[1].append(name)
        return out

    def functions(self):
        """``(names, get, fields, markdown_table)``: what an axis' package exports of its registry."""
        return self.names, self.get, self.fields, self.markdown_table

    def markdown_table(self):
        """The README's table of this axis (a test checks the README against it)."""
        rows = [f"| `--{self.axis}` | what it is |", "|---|---|"]
        return "\n".join(rows + [f"| `{n}` | {describe(self.get(n))} |" for n in self.names()])


def describe(value):
    """An axis value as the README's tables and ``--help`` show it: its help, then its own flags."""
    own = ", ".join(f"--{f.name}" for f in value.fields)
    return f"{value.help}" + (f" (its own flags: {own})" if own else "")


def all_fields():
    """Every axis' values' own fields: ``{name: (Field, [(axis, value), ...])}``."""
    out = {}
    for axis, registry in AXES.items():
        for name, (field, owners) in registry.fields().items():
            out.setdefault(name, (field, []))[1].extend((axis, o) for o in owners)
    return out
