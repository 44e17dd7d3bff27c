"""Shell completion: the scripts Typer writes for loyaltyctl, and the answers the lazily built app gives them
(every command, though a run that names one builds only that one)."""

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import run

BIN = Path(sys.executable).parent  # where `loyaltyctl` is installed beside this Python
pytestmark = pytest.mark.sqlite_only  # no database involved


def in_bash(script: str, home: Path) -> list[str]:
    """Lines a bash script prints with loyaltyctl on its PATH, as a user's shell would run it."""
    env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(home)}
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def bash_completes(words: str, home: Path) -> list[str]:
    """What Tab offers after `words` (the last one being typed) with the script `--show-completion bash` prints."""
    return in_bash(f"source <(loyaltyctl --show-completion bash)\nCOMP_WORDS=({words}); "
                   "COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); _loyaltyctl_completion loyaltyctl\n"
                   'printf "%s\\n" "${COMPREPLY[@]}"', home)


def test_bash_completes_commands_groups_subcommands_and_choices(tmp_path):
    assert bash_completes("loyaltyctl re", tmp_path) == ["redeem", "reverse", "report"]
    assert bash_completes("loyaltyctl --db shop.db ba", tmp_path) == ["balance"]
    assert bash_completes("loyaltyctl report li", tmp_path) == ["liability"]
    assert bash_completes("loyaltyctl report liability --format ''", tmp_path) == ["table", "json", "csv", "xlsx"]


def test_zsh_and_fish_ask_the_same_way_and_get_every_command(tmp_path):
    """The scripts for zsh and fish call loyaltyctl with these variables and no arguments (neither shell is
    installed here: the request is made as their scripts make it)."""
    def answer(shell: str, line: str, **extra: str) -> str:
        env = {"PATH": f"{BIN}:/usr/bin:/bin", "HOME": str(tmp_path), "_LOYALTYCTL_COMPLETE": f"complete_{shell}",
               "_TYPER_COMPLETE_ARGS": line, **extra}
        return subprocess.run([BIN / "loyaltyctl"], env=env, capture_output=True, text=True, timeout=60).stdout

    assert "statement" in answer("zsh", "loyaltyctl sta") and '"xlsx"' in answer("zsh", "loyaltyctl report liability --format ")
    assert answer("fish", "loyaltyctl vou", _TYPER_COMPLETE_FISH_ACTION="get-args").startswith("voucher\t")


@pytest.mark.parametrize("shell, line", [
    ("bash", "complete -o default -F _loyaltyctl_completion loyaltyctl"),
    ("zsh", "compdef _loyaltyctl_completion loyaltyctl"),
    ("fish", "complete --command loyaltyctl --no-files"),
])
def test_show_completion_prints_the_script_for_the_shell_named(shell, line):
    result = run("--show-completion", shell)
    assert result.exit_code == 0
    assert line in result.stdout and f"_LOYALTYCTL_COMPLETE=complete_{shell}" in result.stdout


def test_install_completion_writes_the_script_the_shell_loads(tmp_path):
    # for the shell it runs in: bash (not loyaltyctl's last word: `bash -c` runs a lone or last command in
    # its own process, and loyaltyctl would find as its shell whatever ran the tests)
    said = in_bash("loyaltyctl --install-completion; true", tmp_path)
    installed = tmp_path / ".bash_completions" / "loyaltyctl.sh"
    assert said[0] == f"bash completion installed in {installed}"
    assert f"source '{installed}'" in (tmp_path / ".bashrc").read_text()
    assert installed.read_text().strip() == "\n".join(in_bash("loyaltyctl --show-completion bash", tmp_path)).strip()
    assert in_bash(f"source '{installed}'; complete -p loyaltyctl", tmp_path) == [
        "complete -o default -F _loyaltyctl_completion loyaltyctl"]


def test_the_root_help_offers_completion_and_a_counter_command_does_not_build_it():
    assert "--install-completion" in run("--help").stdout
    assert "--install-completion" not in run("balance", "--help").stdout  # start-up: no shell detection to import
    assert "No such option: --show-completion" in run("balance", "--show-completion", "bash").stderr
