"""Real processes racing for one balance: the write lock lets exactly as many win as it covers."""

import json
import subprocess
import sys

from tests.cli.test_ledger_cli import CLUB, post
from tests.conftest import run, write


def test_concurrent_redemptions_never_overspend(tmp_path, db_path):
    run("program", "apply", write(tmp_path / "club.toml", CLUB))
    run("member", "add", "-p", "club", "M1")
    post("earn", "-p", "club", "M1", "500", "-r", "stock")
    racers = [
        subprocess.Popen(
            [sys.executable, "-m", "loyaltyctl", "--db", str(db_path), "redeem", "-p", "club", "M1", "--reward", "ten-off"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    outcomes = [(racer.wait(timeout=120), racer.stderr.read()) for racer in racers]
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 0, 0, 0, 0, 1, 1, 1], outcomes
    refusals = [err for code, err in outcomes if code == 1]
    assert all(err.startswith("error: short balance: member 'M1' has 0 points available") for err in refusals)
    result = json.loads(run("balance", "-p", "club", "M1", "--format", "json").stdout)
    assert (result["points"], result["available"]) == (0, 0)
    assert run("db", "verify").exit_code == 0
