"""PNG plot advice names the command for the way roost was installed (issue #18 point 6)."""

from __future__ import annotations

import json

import pytest

from roost_plugins.usage_log import install_advice


@pytest.fixture
def metadata(monkeypatch):
    files: dict[str, str] = {}
    monkeypatch.setattr(install_advice, "_metadata", files.get)
    return files


def test_uv_tool_environment_reinstalls_with_pillow_keeping_the_clone(tmp_path, metadata):
    (tmp_path / "uv-receipt.toml").write_text("[tool]\n")
    metadata["INSTALLER"] = "uv\n"
    metadata["direct_url.json"] = json.dumps({"url": "file:///home/me/roost", "dir_info": {"editable": True}})
    installed = install_advice.detect(str(tmp_path))
    assert installed.how == "uv-tool"
    assert install_advice.pillow_command(installed) == \
        "uv tool install --reinstall --with 'pillow>=10.1' --editable /home/me/roost"


def test_uv_tool_from_the_index_names_roost(tmp_path, metadata):
    (tmp_path / "uv-receipt.toml").write_text("")
    assert install_advice.pillow_command(install_advice.detect(str(tmp_path))) == \
        "uv tool install --reinstall --with 'pillow>=10.1' roost"


def test_pipx_venv_is_injected(tmp_path, metadata):
    venv = tmp_path / ".local" / "share" / "pipx" / "venvs" / "roost"
    venv.mkdir(parents=True)
    metadata["INSTALLER"] = "pip"
    installed = install_advice.detect(str(venv))
    assert installed.how == "pipx"
    assert install_advice.pillow_command(installed) == "pipx inject roost 'pillow>=10.1'"


def test_pip_and_uv_pip_install_into_the_running_interpreter(tmp_path, metadata):
    metadata["INSTALLER"] = "pip"
    assert install_advice.pillow_command(install_advice.detect(str(tmp_path)), "/opt/py/bin/python") == \
        "/opt/py/bin/python -m pip install 'pillow>=10.1'"
    metadata["INSTALLER"] = "uv"
    assert install_advice.pillow_command(install_advice.detect(str(tmp_path)), "/opt/py/bin/python") == \
        "uv pip install --python /opt/py/bin/python 'pillow>=10.1'"
