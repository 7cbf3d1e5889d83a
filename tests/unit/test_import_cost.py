"""Start-up cost kept in check (issue 15): what each command imports, read from the modules a
real process has loaded — module sets, never a time — and what makes the lazy command table
safe: the table matches the commands, the annotations evaluated once for typer build the
commands typer builds, and the pydantic-free conversion of option values gives typer's own
results. Last, what start-up no longer imports still behaves as it did."""

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any, Literal

import pytest
import typer
import typer.main

from s3kit.cli import coercion
from s3kit.cli.app import app
from s3kit.cli.command_table import COMMANDS, LazyCommands

# What no short command needs (issue 15: "no obstore, asyncio, boto3, rich or yaml for commands
# that do not need them"), nor typer's pydantic, nor the layers `ls` does not use.
HEAVY = {"boto3", "botocore", "s3transfer", "rich", "yaml", "obstore", "pydantic",
         "s3kit.transfer", "s3kit._sync", "s3kit.service"}  # fmt: skip
COMMAND_MODULES = {
    entry.target.partition(":")[0] for entry in COMMANDS if isinstance(entry.target, str)
} | {"s3kit.cli.configs", "s3kit.cli.configs_ops"}
# What every command would pay for without a file to read (no s3kit.yaml, no saved connection
# named, no AWS profile files), or for an endpoint on plain http: the config file's parser, the
# connections' reader, the INI reader, TLS, the event loop (a listing sends its requests from the
# calling thread), the local folder's backend, and json and html for a text listing.
NOT_FOR_A_LISTING = {"s3kit._config.file", "s3kit._config.connections", "tomllib", "configparser",
                     "s3kit.cli.connections", "asyncio", "s3kit._aio", "s3kit.storage.loopclient",
                     "s3kit.storage.local", "ssl", "json", "html"}  # fmt: skip


# Runs s3kit as its console script does, and writes the names in sys.modules when it leaves
# (by os._exit, as s3kit always does). Python's -X importtime would miss the command modules:
# importlib.import_module, which the lazy table uses, is not in its log.
_RUN = """
import os, sys
def leave(code, _exit=os._exit):
    with open({out!r}, "w") as out:
        out.write("\\n".join(sys.modules))
    _exit(code)
os._exit = leave
from s3kit.cli.app import main
main()
"""


def imported_by(*args: str, env: dict[str, str] | None = None, home: Path) -> set[str]:
    """The modules loaded by the end of `s3kit ARGS`, run in a process of its own."""
    clean = {k: v for k, v in os.environ.items()
             if not k.startswith(("PYTHON", "S3KIT_", "AWS_", "_S3KIT"))}  # fmt: skip
    clean.update(HOME=str(home), XDG_CONFIG_HOME=str(home / "config"),
                 XDG_DATA_HOME=str(home / "data"), XDG_CACHE_HOME=str(home / "cache"),
                 **(env or {}))  # fmt: skip
    out = home / "modules.txt"
    done = subprocess.run(
        [sys.executable, "-c", _RUN.format(out=str(out)), *args],
        capture_output=True, text=True, env=clean, cwd=home, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    modules = set(out.read_text().split("\n"))
    assert "s3kit.cli.app" in modules  # the dump is read as meant
    return modules


def test_version_imports_nothing_but_its_answer(tmp_path: Path) -> None:
    modules = imported_by("--version", home=tmp_path)
    assert {m for m in modules if m.startswith("s3kit")} == {
        "s3kit", "s3kit._lazy", "s3kit._version", "s3kit.cli", "s3kit.cli.app"
    }  # fmt: skip
    assert "typing" not in modules
    assert not {m for m in modules if m.split(".")[0] in ("typer", "click")}


def test_help_imports_no_command(tmp_path: Path) -> None:
    modules = imported_by("--help", home=tmp_path)
    assert modules & (HEAVY | COMMAND_MODULES | {"asyncio", "s3kit.storage", "s3kit._session"}) \
        == set()  # fmt: skip
    # Nor the settings, which only a command that runs resolves, nor the end-of-run reports'
    # json, which only a run that asked for a report writes.
    assert modules & {"s3kit._config", "json"} == set()


def test_a_commands_help_imports_that_command_alone(tmp_path: Path) -> None:
    modules = imported_by("ls", "--help", home=tmp_path)
    assert modules & COMMAND_MODULES == {"s3kit.cli.ls_rm_cat"}
    assert modules & (HEAVY | {"asyncio", "s3kit.storage", "s3kit._session"}) == set()


class _OnePage(http.server.BaseHTTPRequestHandler):
    """A store that answers every request with the same one-page listing."""

    PAGE = (b'<?xml version="1.0" encoding="UTF-8"?><ListBucketResult><Name>bkt</Name>'
            b"<IsTruncated>false</IsTruncated><Contents><Key>f.txt</Key><Size>3</Size>"
            b"<LastModified>2026-01-02T03:04:05.000Z</LastModified><ETag>&quot;x&quot;</ETag>"
            b"</Contents><CommonPrefixes><Prefix>dir/</Prefix></CommonPrefixes>"
            b"</ListBucketResult>")  # fmt: skip

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(self.PAGE)))
        self.end_headers()
        self.wfile.write(self.PAGE)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def one_page_store() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _OnePage)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _store_env(endpoint: str) -> dict[str, str]:
    return {"S3KIT_ENDPOINT_URL": endpoint, "S3KIT_ACCESS_KEY_ID": "AKIDEXAMPLE",
            "S3KIT_SECRET_ACCESS_KEY": "secret"}  # fmt: skip


def test_ls_of_a_bucket_imports_the_listing_alone(tmp_path: Path, one_page_store: str) -> None:
    modules = imported_by("ls", "s3://bkt/", env=_store_env(one_page_store), home=tmp_path)
    assert "s3kit.storage.s3" in modules  # it did list
    assert modules & COMMAND_MODULES == {"s3kit.cli.ls_rm_cat"}
    assert modules & HEAVY == set()
    assert "s3kit._local_server" not in modules  # an endpoint was given
    assert modules & NOT_FOR_A_LISTING == set()


def test_what_a_listing_leaves_out_is_there_when_asked_for(
    tmp_path: Path, one_page_store: str
) -> None:
    """The modules the test above finds missing are loaded where they are needed — an
    s3kit.yaml, a saved connection, AWS profile files, --json — so that test reads the module
    sets it means to."""
    (tmp_path / "s3kit.yaml").write_text("log:\n  level: warning\n")
    connections = tmp_path / "config" / "s3kit" / "connections.toml"
    connections.parent.mkdir(parents=True)
    connections.write_text('[connections.work]\nregion = "eu-west-1"\n')
    (tmp_path / ".aws").mkdir()
    (tmp_path / ".aws" / "config").write_text("[default]\nregion = eu-west-1\n")
    env = {**_store_env(one_page_store), "S3KIT_CONNECTION": "work"}
    modules = imported_by("ls", "s3://bkt/", "--json", env=env, home=tmp_path)
    assert modules >= {"s3kit._config.file", "s3kit._config.connections", "tomllib",
                       "configparser", "json"}  # fmt: skip


def test_the_storage_package_loads_a_backend_when_it_is_asked_for(tmp_path: Path) -> None:
    """`import s3kit.storage` is the protocol alone; each backend comes with its name."""
    out = tmp_path / "modules.txt"
    code = (
        "import sys\nimport s3kit.storage as storage\n"
        "before = {'local': 's3kit.storage.local' in sys.modules, 'asyncio': 'asyncio' in"
        " sys.modules}\n"
        "from s3kit.storage import LocalStorage, S3Storage\n"
        "assert LocalStorage.__module__ == 's3kit.storage.local', LocalStorage\n"
        "assert S3Storage.__module__ == 's3kit.storage.s3', S3Storage\n"
        "assert set(storage.__all__) <= set(dir(storage)) | {'LocalStorage', 'S3Storage'}\n"
        f"open({str(out)!r}, 'w').write(repr(before))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert out.read_text() == repr({"local": False, "asyncio": False})
    import s3kit.storage

    with pytest.raises(AttributeError, match="NoSuchStorage"):
        s3kit.storage.NoSuchStorage  # noqa: B018 - the lookup is the test


# -- the table of commands ---------------------------------------------------------------------


def _fresh_root() -> Any:
    return typer.main.get_command(app)


def test_the_table_says_what_each_command_says() -> None:
    """Each command's line in `s3kit --help` and in completion comes from COMMANDS until the
    command is built: it must be what the command itself would show, at any width."""
    root = _fresh_root()
    commands = root.commands
    assert isinstance(commands, LazyCommands)
    assert len({entry.name for entry in COMMANDS}) == len(COMMANDS)
    for entry in COMMANDS:
        stand_in = commands.peek(entry.name)
        built = commands[entry.name]
        assert built.name == entry.name
        assert not built.hidden and not built.deprecated, f"{entry.name}: say so in the table"
        for limit in (*range(10, 130, 3), 10**6):
            assert stand_in.get_short_help_str(limit) == built.get_short_help_str(limit), (
                f"{entry.name}: COMMANDS says {entry.help!r}, the command {built.help!r}"
            )


def test_help_lists_every_command_the_same_before_and_after_they_are_built() -> None:
    root = _fresh_root()
    ctx = root.context_class(root, info_name="s3kit")
    lazy = root.get_help(ctx)
    assert not root.commands._built  # listing them built none
    for name in list(root.commands):
        root.commands[name]
    assert root.get_help(ctx) == lazy
    assert all(f"  {entry.name} " in lazy for entry in COMMANDS)


def test_only_the_command_looked_up_is_built() -> None:
    root = _fresh_root()
    assert "ls" in root.commands and "nosuch" not in root.commands
    assert root.get_command(None, "nosuch") is None
    root.get_command(None, "ls")
    assert set(root.commands._built) == {"ls"}


# Describes the whole command tree as typer builds it, as JSON: every command's help and every
# parameter's settings, the annotation typer read and the conversion chosen for it.
_TREE = """
import json, sys
from s3kit.cli import command_table
if sys.argv[1] == "text":  # typer evaluates every annotation itself, as it does without s3kit
    command_table.resolve_annotations = lambda target: None
import typer.main
from s3kit.cli.app import app

def describe(command, name):
    ctx = command.context_class(command, info_name=name)
    params = []
    for param in command.get_params(ctx):
        info = {k: v for k, v in vars(param).items()
                if k not in ("type_descriptor", "_runtime_param")}
        info["opts"], info["secondary_opts"] = sorted(param.opts), sorted(param.secondary_opts)
        info["type"] = repr(getattr(param, "type", None))
        descriptor = getattr(param, "type_descriptor", None)
        info["annotation"] = repr(getattr(descriptor, "annotation", None))
        info["conversion"] = type(getattr(param, "_runtime_param", None)).__name__
        params.append(info)
    described = {"help": command.help, "short": command.get_short_help_str(),
                 "hidden": command.hidden, "params": params}
    if hasattr(command, "commands"):
        described["commands"] = {name: describe(command.get_command(ctx, name), name)
                                 for name in command.list_commands(ctx)}
    return described

def plain(value):
    if callable(value):
        return f"{getattr(value, '__module__', '')}:{getattr(value, '__qualname__', '')}"
    text = repr(value)
    return type(value).__name__ if " at 0x" in text else text

print(json.dumps(describe(typer.main.get_command(app), "s3kit"), default=plain, sort_keys=True))
"""


def _tree(annotations: str) -> Any:
    import json

    done = subprocess.run([sys.executable, "-c", _TREE, annotations], capture_output=True,
                          text=True, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


def test_annotations_evaluated_once_build_the_commands_typer_builds() -> None:
    """`resolve_annotations` hands typer the objects its own evaluation of the annotations'
    text gives: every command, option and conversion of the tree comes out the same."""
    resolved, text = _tree("resolved"), _tree("text")
    assert len(resolved["commands"]) == len(COMMANDS)
    assert resolved["commands"]["ls"]["params"][0]["annotation"] != repr(None)  # read as meant
    assert resolved == text


def test_annotations_are_evaluated_once_for_every_function_typer_reads() -> None:
    """A command, its group's callback and the value callback and completion function its
    options name: none is left with text for typer to evaluate again."""
    from s3kit.cli import root
    from s3kit.cli.command_table import resolve_annotations
    from s3kit.cli.completion import complete_s3_url
    from s3kit.cli.ls_rm_cat import ls

    resolve_annotations(ls)
    group = typer.Typer()
    group.command("x")(ls)
    group.callback()(root.root)
    resolve_annotations(group)
    for function in (ls, root.root, root._version, complete_s3_url):
        assert not [v for v in function.__annotations__.values() if isinstance(v, str)], function

    def broken(value: "NoSuchName") -> None:  # type: ignore[name-defined]  # noqa: F821
        pass

    resolve_annotations(broken)  # left for typer to report, as it always has
    assert broken.__annotations__["value"] == "NoSuchName"


# -- option values converted without pydantic, as typer converts them -------------------------

CHOICE = Literal["http", "https"]
EXISTING = "<an existing file>"
CASES: list[tuple[Any, dict[str, Any], Any]] = [
    (str, {}, "text"), (str, {}, ""), (str, {}, "--not-an-option"),
    (Path, {}, "a/b/"), (Path, {}, ""), (Path, {"exists": True}, "missing"),
    (Path, {"exists": True}, EXISTING), (Path, {"file_okay": False}, EXISTING),
    (Path, {"resolve_path": True}, "x/../y"),
    (int, {}, "7"), (int, {}, "007"), (int, {}, "+5"), (int, {}, "-0"), (int, {}, " 5"),
    (int, {}, "1_000"), (int, {}, "x"), (int, {}, "5.0"), (int, {}, ""), (int, {}, 7),
    (int, {"min": 1, "max": 3}, "3"), (int, {"min": 1, "max": 3}, "4"),
    (int, {"min": 1}, "0"), (int, {"min": 1, "max": 3, "clamp": True}, "9"),
    (bool, {}, True), (bool, {}, False), (bool, {}, "yes"), (bool, {}, "nope"),
    (CHOICE, {}, "http"), (CHOICE, {}, "HTTP"), (CHOICE, {"case_sensitive": False}, "HTTPS"),
    (CHOICE, {}, "ftp"),
    (list[str], {}, ("a", "b")), (list[str], {}, ()), (list[Path], {}, ("a", "b/")),
    (list[int], {}, ("1", "02")), (list[int], {}, ("1", "x")),
]  # fmt: skip


def _option(annotation: Any, settings: dict[str, Any]) -> tuple[Any, Any]:
    """A one-option click command built by typer, and that option."""

    def command(value: Annotated[annotation, typer.Option(**settings)] = None) -> None:
        pass

    holder = typer.Typer(add_completion=False)
    holder.command()(command)
    built = typer.main.get_command(holder)
    return built, next(p for p in built.params if p.name == "value")


def _outcome(runtime: Any, value: Any, param: Any, ctx: Any) -> tuple[str, Any]:
    try:
        return "value", runtime.coerce(value, param=param, ctx=ctx)
    except typer.BadParameter as exc:
        return "error", exc.format_message()


@pytest.mark.parametrize(("annotation", "settings", "value"), CASES, ids=repr)
def test_a_value_converts_as_typer_converts_it(
    annotation: Any, settings: dict[str, Any], value: Any, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    from typer._coercion import build_runtime_param

    monkeypatch.chdir(tmp_path)
    (tmp_path / "file").write_text("x")
    value = "file" if value == EXISTING else value
    command, param = _option(annotation, settings)
    ctx = command.context_class(command, info_name="x")
    typers = _outcome(build_runtime_param(param.type_descriptor), value, param, ctx)
    coercion.plain_params(command)
    if settings.get("clamp"):  # a clamped number is typer's alone
        assert param._runtime_param is None
        return
    assert param._runtime_param is not None  # every other case here is one of the plain kinds
    assert _outcome(param._runtime_param, value, param, ctx) == typers


def _sample(annotation: Any) -> Any:
    if getattr(annotation, "__origin__", None) is list:
        return (_sample(annotation.__args__[0]),)
    if getattr(annotation, "__origin__", None) is Literal:
        return annotation.__args__[0]
    return {str: "x", int: "2", bool: True, float: "1.5"}.get(annotation, "p")


def test_every_s3kit_option_converts_as_typer_converts_it() -> None:
    """Over the whole command tree, a value of the option's kind converts (or is refused) as
    typer's own conversion would: none goes through pydantic for nothing, none differently."""
    from typer._coercion import build_runtime_param

    root = _fresh_root()
    checked = 0

    def walk(command: Any) -> None:
        nonlocal checked
        ctx = command.context_class(command, info_name=command.name or "s3kit")
        for param in command.get_params(ctx):
            ours = getattr(param, "_runtime_param", None)
            if ours is None or not isinstance(ours, coercion._plain_class()):
                continue
            value = _sample(param.type_descriptor.annotation)
            typers = _outcome(build_runtime_param(param.type_descriptor), value, param, ctx)
            assert _outcome(ours, value, param, ctx) == typers, param.name
            checked += 1
        for name in list(getattr(command, "commands", {})):
            walk(command.commands[name])

    walk(root)
    assert checked > 400


# -- what start-up no longer imports still behaves as before -----------------------------------


@pytest.mark.parametrize(
    "text", ["plain/key.txt", "a&b<c>d\"e'f", "&amp; &lt;", "", "ünï & cödé <>", "\t\r\n"]
)
def test_the_xml_escape_of_delete_bodies_is_html_escape(text: str) -> None:
    """DeleteObjects bodies are written exactly as when html.escape wrote them."""
    import html

    from s3kit.storage.s3 import escape

    assert escape(text) == html.escape(text)


def test_a_state_without_a_config_file_has_the_empty_config() -> None:
    from s3kit._config.file import S3KitConfig, parse_config
    from s3kit.cli.state import CliState

    state = CliState()
    assert state.config == S3KitConfig()
    assert state.config is state.config  # made once
    state.config = parse_config("sync:\n  delete_removed: true\n")
    assert state.config.sync.delete_removed is True


def test_find_config_file_is_the_same_function_where_it_was() -> None:
    """Moved to _config.locations (no yaml, no validation); still importable from
    _config.file, where _sync.run and callers look for it."""
    from s3kit._config import file, locations

    assert file.find_config_file is locations.find_config_file
    assert file.CONFIG_FILE == locations.CONFIG_FILE == "s3kit.yaml"
