"""``misbridge hub ...``: the operator's commands on the hub's database."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from misbridge.cli import build_cli
from misbridge.hub.accounts import authenticate
from misbridge.hub.database import open_database, utcnow
from misbridge.hub.principals import User


def test_school_user_token_and_activation_code(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    cli, runner = build_cli(), CliRunner()
    school = runner.invoke(cli, ["hub", "school", "add", "Oak", "--mis", "sims", "--database", url])
    assert school.exit_code == 0, school.output
    school_id = school.output.strip()
    added = runner.invoke(
        cli,
        [
            *("hub", "user", "add", "amy", "--permission", "import-data"),
            *("--school", school_id, "--database", url),
        ],
    )
    assert added.exit_code == 0, added.output
    token = added.output.split("digest): ")[1].strip()
    engine = open_database(url)
    user = authenticate(engine, utcnow(), token, via="api")
    engine.dispose()
    assert isinstance(user, User) and user.schools == frozenset({school_id})
    code = runner.invoke(cli, ["hub", "activation-code", school_id, "--database", url])
    assert code.exit_code == 0 and len(code.stdout.strip()) == 31
    unknown = runner.invoke(cli, ["hub", "activation-code", "sch_nope", "--database", url])
    assert unknown.exit_code == 1 and "no school sch_nope" in unknown.output
    swept = runner.invoke(cli, ["hub", "sweep", "--database", url, "--storage", str(tmp_path)])
    assert swept.exit_code == 0 and '"expired": 0' in swept.output


def test_serve_refuses_plain_http_off_the_loopback_interface(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        build_cli(),
        ["hub", "serve", "--host", "0.0.0.0", "--database", f"sqlite:///{tmp_path / 'h.db'}"],  # noqa: S104
    )
    assert result.exit_code == 1
    assert "refusing to serve plain HTTP" in result.output
