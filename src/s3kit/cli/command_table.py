"""Every top-level `s3kit` command by name, imported only when it is the one being run.

A command's module, and what it imports (the transfer layer, the service layer, the sync
engine...), costs tens of milliseconds; building every command's click object costs more. So the
root group knows its commands from COMMANDS — name, where the command lives, the one sentence
`s3kit --help` shows — and imports and builds one only when click resolves it. `--help` and
completion of command names read the table; nothing else is loaded for them. A unit test
(tests/unit/test_import_cost.py) checks the table against the commands themselves, so a help
sentence or a new command cannot drift from it.

What it must never do: build a command differently from how typer builds a registered one (the
same `typer.main` call does it), or load any command that was not asked for.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterator, MutableMapping, Sequence
from dataclasses import dataclass
from types import FunctionType
from typing import Any, ClassVar, get_type_hints

import typer
import typer.main
from typer.core import TyperCommand, TyperGroup
from typer.models import ParameterInfo

from s3kit.cli import coercion

try:  # recent typer releases carry their own copy of click
    from typer._click import Command as ClickCommand
    from typer._click.shell_completion import CompletionItem
except ImportError:  # older typer depends on click itself
    from click import Command as ClickCommand  # type: ignore[assignment]
    from click.shell_completion import CompletionItem  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class Entry:
    """One top-level command: `target` is "module:attribute" naming a command function or a
    `typer.Typer` group, or a function that returns the group; `help` is what `s3kit --help`
    lists for it (its help's first sentence)."""

    name: str
    target: str | Callable[[], Any]
    help: str

    def load(self) -> Any:
        if callable(self.target):
            return self.target()
        module, _, attribute = self.target.partition(":")
        return getattr(importlib.import_module(module), attribute)


@functools.cache
def configs_group() -> typer.Typer:
    """`s3kit configs`: the store's own commands, and those of cli/configs_ops.py."""
    from s3kit.cli import configs, configs_ops

    configs_ops.register(configs.app)
    return configs.app


# In the order `s3kit --help` lists them: typer's (commands, then groups).
COMMANDS: tuple[Entry, ...] = (
    Entry("ls", "s3kit.cli.ls_rm_cat:ls",
          "List buckets, or the objects and prefixes under a prefix."),
    Entry("cp", "s3kit.cli.cp_mv:cp", "Copy files and objects: local→S3, S3→local, S3→S3."),
    Entry("mv", "s3kit.cli.cp_mv:mv",
          "Move: copy, then delete each source once its copy succeeded."),
    Entry("rm", "s3kit.cli.ls_rm_cat:rm",
          "Delete an object, or all under a prefix with --recursive."),
    Entry("cat", "s3kit.cli.ls_rm_cat:cat", "Write an object's content to standard output."),
    Entry("mb", "s3kit.cli.mb_rb:mb", "Make a bucket."),
    Entry("rb", "s3kit.cli.mb_rb:rb",
          "Remove a bucket; it must be empty unless --force is given."),
    Entry("presign", "s3kit.cli.account:presign",
          "Print a presigned URL granting GET or PUT on one object."),
    Entry("whoami", "s3kit.cli.account:whoami",
          "Show the endpoint and identity the configuration reaches."),
    Entry("probe", "s3kit.cli.probe:probe", "Show which S3 features the endpoint supports."),
    Entry("health", "s3kit.cli.health:health",
          "Check that the endpoint, the credentials and a bucket work."),
    Entry("batch", "s3kit.cli.batch:batch", "Copy, delete, tag or restore many objects at once."),
    Entry("cost", "s3kit.cli.maintenance:cost",
          "Estimate the monthly storage cost of a bucket or prefix."),
    Entry("sync", "s3kit.cli.sync:sync",
          "Make DESTINATION match SOURCE: local→S3, S3→local or S3→S3."),
    Entry("apply", "s3kit.cli.sync:apply", "Carry out a plan written by sync --plan-out."),
    Entry("profiles", "s3kit.cli.connections:profiles",
          "List the AWS profiles (~/.aws/config and credentials)."),
    Entry("multipart", "s3kit.cli.maintenance:multipart_app",
          "Incomplete multipart uploads: list them, abort them."),
    Entry("local", "s3kit.cli.local:app", "Manage the embedded local SeaweedFS server."),
    Entry("bucket", "s3kit.cli.bucket_group:app",
          "Buckets: details, tags, policies, ACLs and configuration."),
    Entry("object", "s3kit.cli.object_group:app",
          "Objects: metadata, tags, versions, copies and restores."),
    Entry("connections", "s3kit.cli.connections:app",
          "Saved connections: endpoint, region and profile by name."),
    Entry("website", "s3kit.cli.website:app", "Static websites: try a deployed site locally."),
    Entry("deploy", "s3kit.cli.deploy:app", "Deploy a static site."),
    Entry("github", "s3kit.cli.github:app", "Publish from GitHub."),
    Entry("configs", configs_group,
          "Versioned configuration of monitoring tools, per environment."),
)  # fmt: skip


def resolve_annotations(target: Any) -> None:
    """Evaluate, once, the annotations written as text (`from __future__ import annotations`)
    of `target` — a command function or a `typer.Typer` with its commands, callbacks and
    groups — and of the value callbacks and completion functions their options name.

    typer evaluates a function's text annotations itself each time it reads its parameters:
    four to six times per function while building one command (its options' typer.Option
    objects made anew each time), most of what building `s3kit ls` costs. The objects
    evaluated here are what each of those evaluations gives, so typer builds the same command;
    an annotation that cannot be evaluated is left as text, for typer to report as it does."""
    if isinstance(target, typer.Typer):
        infos: list[Any] = [target.info, target.registered_callback]
        infos += target.registered_commands
        for group in target.registered_groups:
            infos.append(group)
            resolve_annotations(group.typer_instance)
        for info in infos:
            resolve_annotations(getattr(info, "callback", None))
        return
    if not isinstance(target, FunctionType):  # a placeholder, a class: typer's alone
        return
    annotations = target.__annotations__
    if any(isinstance(value, str) for value in annotations.values()):
        try:
            target.__annotations__ = annotations = get_type_hints(target, include_extras=True)
        except Exception:  # typer evaluates them again, and says what is wrong
            return
    infos = [info for value in annotations.values() for info in getattr(value, "__metadata__", ())]
    infos += [*(getattr(target, "__defaults__", None) or ())]  # `x: str = typer.Option(...)`
    infos += [*(getattr(target, "__kwdefaults__", None) or {}).values()]
    for info in infos:
        if isinstance(info, ParameterInfo):
            resolve_annotations(info.callback)
            resolve_annotations(info.autocompletion)


class LazyCommands(MutableMapping[str, Any]):
    """A group's commands: the ones built so far, and the table's, built on first lookup.
    Listing names or testing `name in` builds nothing; looking one up builds that one."""

    def __init__(
        self, table: Sequence[Entry], built: dict[str, Any], build: Callable[[Entry], Any]
    ) -> None:
        self._table = {entry.name: entry for entry in table}
        self._built = built
        self._build = build

    def __getitem__(self, name: str) -> Any:
        if name not in self._built:
            entry = self._table[name]  # KeyError for a name that is no command, as a dict
            self._built[name] = self._build(entry)
        return self._built[name]

    def __setitem__(self, name: str, command: Any) -> None:
        self._built[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self:
            raise KeyError(name)
        self._built.pop(name, None)
        self._table.pop(name, None)

    def __contains__(self, name: object) -> bool:
        return name in self._table or name in self._built

    def __iter__(self) -> Iterator[str]:
        yield from self._table
        yield from (name for name in self._built if name not in self._table)

    def __len__(self) -> int:
        return len(self._table.keys() | self._built.keys())

    def peek(self, name: str) -> Any:
        """The command if built, else a stand-in that knows only its name and help."""
        if name in self._built:
            return self._built[name]
        return TyperCommand(name=name, help=self._table[name].help)


class LazyGroup(TyperGroup):
    """A typer group that also has the commands of `table`, built when first looked up.
    With an empty table it is a TyperGroup as any other."""

    table: ClassVar[Sequence[Entry]] = ()

    def __init__(self, **attrs: Any) -> None:
        super().__init__(**attrs)
        if self.table:
            self.commands = LazyCommands(self.table, dict(self.commands), self._build)

    def _build(self, entry: Entry) -> Any:
        # The way typer builds a command registered on this group: one Typer holding it, with
        # this group's markup mode, turned into click objects by typer itself.
        holder = typer.Typer(add_completion=False, rich_markup_mode=self.rich_markup_mode)
        target = entry.load()
        resolve_annotations(target)
        if isinstance(target, typer.Typer):
            holder.add_typer(target, name=entry.name)
        else:
            holder.command(entry.name)(target)
        command = typer.main.get_group(holder).commands[entry.name]
        # This group is the root wherever a table is used: its context's help option names
        # are its own settings' (click's default otherwise).
        names = (self.context_settings or {}).get("help_option_names", ["--help"])
        coercion.plain_params(command, names)
        return command

    def get_params(self, ctx: Any) -> list[Any]:
        params: list[Any] = super().get_params(ctx)
        coercion.convert_plainly(params)  # its help option and typer's completion's come here
        return params

    def _listed(self, ctx: Any) -> Iterator[tuple[str, Any]]:
        commands = self.commands
        for name in self.list_commands(ctx):
            command = (
                commands.peek(name)
                if isinstance(commands, LazyCommands)
                else self.get_command(ctx, name)
            )
            if command is not None and not command.hidden:
                yield name, command

    def list_commands(self, ctx: Any) -> list[str]:
        return list(self.commands)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        # TyperGroup's, without building every command for one line of help each.
        commands = list(self._listed(ctx))
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in commands)
        rows = [(name, command.get_short_help_str(limit)) for name, command in commands]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def shell_complete(self, ctx: Any, incomplete: str) -> list[Any]:
        # TyperGroup's: the command names that fit, then the group's own options.
        results = [
            CompletionItem(name, help=command.get_short_help_str())
            for name, command in self._listed(ctx)
            if name.startswith(incomplete)
        ]
        results.extend(ClickCommand.shell_complete(self, ctx, incomplete))
        return results
