"""The README's tours, typed in order on a fresh database, do what the README says they do."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TOURS = "## A tour for each user"
EXPECTED_EXIT = re.compile(r"# exit (\d+)\b")


def tour_commands() -> list[tuple[int, str]]:
    """(README line, command) of every command line in the tours section: indented `loyaltyctl …` or `export …`."""
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    start = lines.index(TOURS)
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("## "))
    return [(number + 1, line.strip()) for number, line in enumerate(lines[start:end], start)
            if line.startswith("    loyaltyctl ") or line.startswith("    export ")]


def test_the_tours_name_the_commands_they_teach():
    commands = [command for _, command in tour_commands()]
    assert len(commands) > 40
    for taught in ("earn", "redeem", "reverse", "transfer", "txn import", "statement", "report liability",
                   "report journal", "report analytics", "period close", "db backup"):
        assert any(f"loyaltyctl {taught} " in command for command in commands), taught


def test_every_tour_runs_as_written_on_a_fresh_database(tmp_path):
    shutil.copytree(ROOT / "sample_programs", tmp_path / "sample_programs")
    script = ["set -u"]
    for number, command in tour_commands():
        expected = EXPECTED_EXIT.search(command)
        script += [command, f'rc=$?; [ $rc -eq {expected.group(1) if expected else 0} ] || '
                            f'{{ echo "README.md:{number}: exit $rc: {command.replace(chr(34), chr(39))}" >&2; exit 99; }}']
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path), "COLUMNS": "80",
           "LOYALTYCTL_NOW": "2026-12-01T17:00:00+00:00"}
    ran = subprocess.run(["bash", "-c", "\n".join(script)], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=600)
    assert ran.returncode == 0, ran.stderr[-3000:]
    assert "Traceback" not in ran.stderr and "internal error" not in ran.stderr
    # what the tours say they leave behind
    assert (tmp_path / "statements" / "2026-10" / "index.csv").exists()
    assert (tmp_path / "liability.xlsx").stat().st_size > 0
    assert "<svg" in (tmp_path / "analytics-2026-10.html").read_text(encoding="utf-8")
    assert (tmp_path / "analytics-2026-10.csv").read_text(encoding="utf-8").startswith("summary\n")
    assert (tmp_path / "2026-10.beancount").read_text().count(" open ") > 0
    assert list(tmp_path.glob("loyalty-*.db")), "db backup wrote no file"


def test_the_library_example_runs_as_written(tmp_path):
    """The README's Python example, run from a fresh folder, prints what its comments say."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    example = text.split("```python\n", 1)[1].split("```", 1)[0]
    shutil.copytree(ROOT / "sample_programs", tmp_path / "sample_programs")
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path),
           "LOYALTYCTL_NOW": "2026-12-01T17:00:00+00:00"}
    ran = subprocess.run([sys.executable, "-c", example], cwd=tmp_path, env=env, capture_output=True, text=True,
                         timeout=120)
    assert ran.returncode == 0, ran.stderr
    said = [line.split("#", 1)[1].strip() for line in example.splitlines() if "print(" in line]
    assert ran.stdout.splitlines() == [comment.split(" (")[0] for comment in said]
