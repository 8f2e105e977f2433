"""The ``roost`` command line: a lazy click group with no command of its own.

Every command comes from a ``command.*`` plugin (the built-in dispatch
plugin: pick, which, exec; refresh; profile management; the health views;
config and plugins; update, shellinit, completion, history, stats, doctor,
report, trace, ...): the one plugin that provides the name is loaded alone
(roost_core.cli.command_index), every command plugin only for ``--help`` and
completion. Errors become one stderr line (or the JSON error envelope) and a
semantic exit code.
"""

from __future__ import annotations

import os
import sys
from typing import Any

import click

from .. import __version__
from ..context import RoostContext
from ..errors import ExitCode, RoostError, Unavailable, ValidationError


def _context_settings() -> dict[str, Any]:
    return {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class RoostGroup(click.Group):
    """Root group: plugin commands on demand, Forma error handling."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._load_plugin_commands(ctx)
        return sorted(self.commands)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if ctx is None:  # a plugin's roost_register_commands asking: only what is registered so far
            return None
        if self._load_owner(ctx, name):
            return self.commands[name]
        self._load_plugin_commands(ctx)
        return self.commands.get(name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The root help's command list: remembered rows when nothing changed, else every plugin loaded."""
        rctx = ctx.find_object(RoostContext)
        rows = self._remembered_rows(rctx)
        if rows is None:
            super().format_commands(ctx, formatter)
            if rctx is not None and rctx.out.warnings == 0 and getattr(self, "_plugins_loaded", False):
                self._remember_rows(ctx, rctx)
            return
        listed = [(name, click.Command(name, help=row.get("help"), short_help=row.get("short_help"),
                                       deprecated=row.get("deprecated") or False))
                  for name, row in sorted(rows.items()) if not row.get("hidden")]
        limit = formatter.width - 6 - max(len(name) for name, _ in listed)  # as click lays it out
        with formatter.section("Commands"):
            formatter.write_dl([(name, command.get_short_help_str(limit)) for name, command in listed])

    def _remembered_rows(self, rctx: RoostContext | None) -> dict[str, Any] | None:
        if rctx is None or getattr(self, "_plugins_loaded", False):
            return None
        from . import command_index

        try:
            return command_index.listing(rctx.host, rctx.paths.config_dir)
        except RoostError:
            return None  # a broken config: the full load says why

    def _remember_rows(self, ctx: click.Context, rctx: RoostContext) -> None:
        from . import command_index

        try:
            host = rctx.host
        except RoostError:
            return  # a broken config.toml: remember nothing
        names = self.list_commands(ctx)
        command_index.remember_listing(host, rctx.paths.config_dir,
                                       {name: self.commands[name] for name in names if name in self.commands})

    def _load_owner(self, ctx: click.Context, name: str) -> bool:
        """Load only the plugin that provided ``name`` last time, or the one the entry points
        say provides it (roost_core.cli.command_index)."""
        rctx = ctx.find_object(RoostContext)
        if rctx is None or getattr(self, "_plugins_loaded", False):
            return False
        from . import command_index

        try:
            host = rctx.host
            plugin = command_index.owner(host, rctx.paths.config_dir, name) or command_index.declared(host, name)
            if plugin is None:
                return False
            command_index.add_commands_of(host, self, plugin, rctx.warn)
        except RoostError:
            return False  # the full load says why
        return name in self.commands

    def _load_plugin_commands(self, ctx: click.Context) -> None:
        if getattr(self, "_plugins_loaded", False):
            return
        self._plugins_loaded = True
        rctx = ctx.find_object(RoostContext)
        if rctx is None:
            return
        try:
            host = rctx.host
        except RoostError:  # a broken config.toml must not hide commands (doctor reports it); the
            host = rctx.config_free_host()  # command that runs still meets the error (exit 4 naming the key)
        try:
            host.add_commands(self)
        except RoostError as err:
            rctx.warn(err.message)
            return
        from . import command_index

        command_index.remember(host, rctx.paths.config_dir, self.commands)

    def main(self, args: Any = None, prog_name: str | None = None, complete_var: str | None = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        argv = list(sys.argv[1:] if args is None else args)
        head = argv[: argv.index("--")] if "--" in argv else argv
        rctx = extra.pop("obj", None) or RoostContext()
        rctx.out.json_mode = rctx.out.json_mode or "--json" in head
        rctx.debug = rctx.debug or "--debug" in head or rctx.env.get("CLAUDE_LB_DEBUG", "") not in ("", "0")
        if os.environ.get(complete_var or "_ROOST_COMPLETE"):  # a shell is completing: stay quiet
            from .shell_complete import register_shells

            register_shells()  # roost's PowerShell protocol class
            rctx.out.quiet = True  # plugin warnings would garble the user's prompt
        code = _run(self, argv, prog_name or "roost", complete_var, rctx, extra)
        if standalone_mode:
            sys.exit(code)
        return code


def _run(group: RoostGroup, argv: list[str], prog_name: str, complete_var: str | None,
         rctx: RoostContext, extra: dict[str, Any]) -> int:
    try:
        result = click.Group.main(group, argv, prog_name, complete_var, standalone_mode=False,
                                  obj=rctx, **extra)
        return result if isinstance(result, int) else 0
    except RoostError as err:
        rctx.out.error(err)
        return int(err.exit_code)
    except _NO_ARGS_IS_HELP as exc:  # bare "roost": help is the answer, not an error
        rctx.out.say(exc.ctx.get_help() if exc.ctx else str(exc))
        return 0
    except click.UsageError as exc:
        if rctx.out.json_mode:
            rctx.out.error(ValidationError(exc.format_message(), details={"usage": True}))
        else:
            hint = f"\nTry '{exc.ctx.command_path} --help' for help." if exc.ctx else ""
            rctx.out.say(f"roost: error: {exc.format_message()}{hint}")
        return int(ExitCode.VALIDATION)
    except click.ClickException as exc:
        rctx.out.error(RoostError(exc.format_message()))
        return int(ExitCode.UNEXPECTED)
    except click.exceptions.Abort:
        rctx.out.say("roost: aborted")
        return 130
    except KeyboardInterrupt:
        rctx.out.say("roost: interrupted")
        return 130
    except BrokenPipeError:
        _silence_broken_pipe()
        return 0
    except Exception as exc:  # a bug: say so, traceback only on request
        if rctx.debug:
            import traceback  # only for a bug's report: ~4 ms a run otherwise

            traceback.print_exc()
        rctx.out.error(RoostError(f"unexpected {type(exc).__name__}: {exc}"
                                  + ("" if rctx.debug else " (run with --debug for a traceback)")))
        return int(ExitCode.UNEXPECTED)


# click 8.2 names it NoArgsIsHelpError, earlier ones NoArgsIsHelp or not at all (then nothing is caught).
_NO_ARGS_IS_HELP: tuple[type[click.UsageError], ...] = tuple(
    getattr(click.exceptions, name) for name in ("NoArgsIsHelpError", "NoArgsIsHelp")
    if hasattr(click.exceptions, name))[:1]


def _silence_broken_pipe() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


def _disable_plugins(ctx: click.Context, param: click.Parameter, value: tuple[str, ...]) -> tuple[str, ...]:
    if value:
        rctx = ctx.ensure_object(RoostContext)
        rctx.disabled_plugins = tuple(rctx.disabled_plugins) + tuple(value)
    return value


def _set_team(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value:
        ctx.ensure_object(RoostContext).use_team(value)
    return value


def json_flag(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(RoostContext).out.json_mode = True
    return value


def _completion_option(flag: str, install: bool):
    def callback(ctx: click.Context, param: click.Parameter, value: bool) -> None:
        if not value or ctx.resilient_parsing:
            return
        command = ctx.command.get_command(ctx, "completion") if isinstance(ctx.command, click.Group) else None
        if command is None:
            raise Unavailable("shell completion comes from the 'completion' plugin, which is not loaded "
                              "(disabled with --disable-plugin or [plugins] disable?)")
        ctx.invoke(command, shell=None, install=install)
        ctx.exit(0)

    return click.option(flag, is_flag=True, expose_value=False, is_eager=True, callback=callback,
                        help=("Install shell completion for the current shell (exit 4 when it cannot "
                              "be detected; then use `roost completion SHELL --install`)." if install
                              else "Print the shell completion script (detected shell; bash when unknown)."))


@click.group(cls=RoostGroup, context_settings=_context_settings(),
             help="Pick the healthiest Claude Code OAuth profile.\n\n"
                  "stdout carries data (--json gives the {data, meta} envelope); "
                  "tables, warnings and errors go to stderr. Exit codes: 0 ok, 1 unexpected, "
                  "2 auth required, 3 not found, 4 validation, 5 forbidden, 6 rate limited, "
                  "7 conflict/lease held, 8 timeout, 9 unavailable.")
@click.version_option(__version__, "--version", "-V", prog_name="roost", message="%(prog)s %(version)s")
@click.option("--json", "json_mode", is_flag=True, expose_value=False, callback=json_flag,
              help="Print the {data, meta} envelope on stdout.")
@click.option("--debug", is_flag=True, expose_value=False, help="Show tracebacks for unexpected errors.")
@click.option("--team", metavar="NAME", expose_value=False, callback=_set_team,
              help="Apply [teams.NAME] from config.toml (or $CLAUDE_LB_TEAM).")
@click.option("--disable-plugin", "disable_plugin", metavar="NAME", multiple=True, expose_value=False,
              callback=_disable_plugins, help="Do not load this plugin (repeatable).")
@_completion_option("--install-completion", install=True)
@_completion_option("--show-completion", install=False)
@click.pass_context
def cli(ctx: click.Context) -> None:
    ctx.ensure_object(RoostContext)


def main() -> None:
    cli.main(prog_name="roost")
