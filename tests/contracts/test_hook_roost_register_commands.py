"""roost_register_commands: a third-party command is listed in ``--help``, runs, and speaks the envelope."""

SOURCE = '''
import json
import click
from roost_core.api import hookimpl

@click.command("greet", help="Say hello (contract test).")
@click.argument("who")
@click.option("--json", "as_json", is_flag=True)
def greet(who, as_json):
    if as_json:
        click.echo(json.dumps({"data": {"greeting": f"hello {who}"}, "meta": {}}))
    else:
        click.echo(f"hello {who}")

@hookimpl
def roost_register_commands(cli):
    cli.add_command(greet)
'''


def test_third_party_command(roost_run, third_party, plugin_row):
    third_party("roost-greet", {"contract_command": SOURCE}, {"command.greet": "contract_command"})
    assert "Say hello (contract test)." in roost_run("--help").stdout
    result = roost_run("greet", "world")
    assert (result.returncode, result.stdout) == (0, "hello world\n"), result.stderr
    assert roost_run("greet", "world", "--json").json["data"] == {"greeting": "hello world"}
    assert roost_run("greet").returncode == 4  # a usage error is VALIDATION, as for every command
    assert plugin_row("greet")["dist"] == "roost-greet"
