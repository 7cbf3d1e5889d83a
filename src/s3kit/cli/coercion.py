"""typer's conversion of option and argument values, without pydantic where it is not needed.

typer (the releases that carry their own click) converts every value through a pydantic
TypeAdapter, built on a parameter's first use; the first one imports pydantic, about 0.1 s of
CPU, most of what a short command such as `s3kit ls` would cost to start. For the values s3kit's
commands take, the result is known without it: text stays text, a path becomes a `Path` and then
goes through typer's own checks, a whole number in range is `int(text)`, a choice goes through
typer's own matching, a list item by item. Whatever else comes — another type, a value that does
not convert cleanly — is handed to typer's own conversion, so what is accepted, and every error
message, stay typer's. A typer without the private names used here is left as it is: slower,
never different.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

# A whole number as pydantic reads it too (it also takes "1_000" and spaces: those go to it).
_WHOLE = re.compile(r"[+-]?[0-9]{1,100}")

Convert = Callable[[Any, Any, Any], Any]  # (value, param, ctx) -> value, or raise _Unsure


class _Unsure(Exception):
    """Not a value converted here: typer's own conversion decides."""


def plain_params(command: Any, help_names: list[str] | None = None) -> None:
    """Give `command`'s parameters, and those of the commands under it that are already built,
    the pydantic-free conversion wherever it gives typer's result.

    With `help_names` (the help option names its parent's context has), the command's help
    option is made too, as click makes it on first use (and then keeps), so that it converts
    the same way; the commands under it inherit those names unless they set their own."""
    params = list(getattr(command, "params", ()))
    if help_names is not None:
        help_names = (getattr(command, "context_settings", None) or {}).get(
            "help_option_names", help_names
        )
        option = command.get_help_option(_HelpNames(help_names))
        if option is not None:
            params.append(option)
    convert_plainly(params)
    commands = getattr(command, "commands", None)
    if isinstance(commands, dict):  # a lazy table is converted as each command is built
        for sub in commands.values():
            plain_params(sub, help_names)


def convert_plainly(params: Iterable[Any]) -> None:
    """The pydantic-free conversion for each of `params` that typer has not converted yet and
    whose kind it covers; the others are left as they are."""
    plain = _plain_class()
    if plain is None:
        return
    for param in params:
        descriptor = getattr(param, "type_descriptor", None)
        if descriptor is None or getattr(param, "_runtime_param", "absent") is not None:
            continue
        convert = converter(descriptor)
        if convert is not None:
            param._runtime_param = plain(
                parameter_info=descriptor.parameter_info,
                annotation=descriptor.annotation,
                descriptor=descriptor,
                convert=convert,
            )


@dataclass(frozen=True, slots=True)
class _HelpNames:
    """What click reads of a context to make a command's help option."""

    help_option_names: list[str]


@functools.cache
def _plain_class() -> Any:
    try:
        from typer._coercion import RuntimeParam, build_runtime_param
    except ImportError:
        return None

    @dataclass(frozen=True)
    class Plain(RuntimeParam):
        descriptor: Any = None
        convert: Any = None

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            try:
                return self.convert(value, param, ctx)
            except _Unsure:
                full = build_runtime_param(self.descriptor)
                param._runtime_param = full  # from now on this parameter is typer's alone
                return full._coerce_value(value, param=param, ctx=ctx)

    return Plain


def converter(descriptor: Any) -> Convert | None:
    """The conversion for a parameter typer describes so, or None to leave it to typer."""
    info = descriptor.parameter_info
    if descriptor.file_annotation is not None or info.parser is not None:
        return None
    annotation = descriptor.annotation
    if get_origin(annotation) is list:
        (item,) = get_args(annotation)
        leaf = _leaf(item, info)
        if leaf is None:
            return None
        return functools.partial(_each, leaf)
    return _leaf(annotation, info)


def _each(leaf: Convert, value: Any, param: Any, ctx: Any) -> list[Any]:
    values = value if isinstance(value, list | tuple) else [value]
    return [leaf(one, param, ctx) for one in values]


def _leaf(annotation: Any, info: Any) -> Convert | None:
    if annotation is str:
        return _text
    if annotation is bool:
        return _flag
    if get_origin(annotation) is Literal:
        return functools.partial(_choice, get_args(annotation), info.case_sensitive)
    if annotation is int and not info.clamp:
        return functools.partial(_whole, info.min, info.max)
    if isinstance(annotation, type) and issubclass(annotation, Path):
        path_type = info.path_type or annotation
        if isinstance(path_type, type) and issubclass(path_type, Path):
            return functools.partial(_path, path_type, info)
    return None


def _text(value: Any, param: Any, ctx: Any) -> str:
    if type(value) is not str:
        raise _Unsure
    return value


def _flag(value: Any, param: Any, ctx: Any) -> bool:
    if type(value) is not bool:
        raise _Unsure  # "yes", "0", ... from an environment variable: typer reads those
    return value


def _choice(choices: tuple[Any, ...], case_sensitive: bool, value: Any, param: Any,
            ctx: Any) -> Any:  # fmt: skip
    from typer._param_types import coerce_cli_choice

    try:
        return coerce_cli_choice(value, choices=choices, case_sensitive=case_sensitive, ctx=ctx)
    except ValueError:
        raise _Unsure from None


def _whole(low: float | None, high: float | None, value: Any, param: Any, ctx: Any) -> int:
    if type(value) is int:
        number = value
    elif type(value) is str and _WHOLE.fullmatch(value):
        number = int(value)
    else:
        raise _Unsure
    if (low is not None and number < low) or (high is not None and number > high):
        raise _Unsure  # typer says what the range is
    return number


def _path(path_type: type[Path], info: Any, value: Any, param: Any, ctx: Any) -> Any:
    from typer._param_types import coerce_cli_path

    if type(value) is str:
        value = path_type(value)
    elif not isinstance(value, path_type):
        raise _Unsure
    return coerce_cli_path(value, info, path_type=path_type, param=param, ctx=ctx)
