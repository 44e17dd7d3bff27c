"""Tills posting at the same moment, as processes with a connection each: nothing is lost, invented or
overspent, and every idempotency key posts once (both backends; on PostgreSQL postings lock only their
members, so this is where crossing writers meet)."""

import os
import random
from multiprocessing import get_context

import pytest

import loyaltyctl
from tests.test_api import loyaltyctl_program

TILLS = 4
SALES = 40
SHARED_KEYS = 12  # keys every till posts (a till's network retrying another till's sale): each posts once


def till(job: tuple) -> tuple[dict[str, int], int, list[int]]:
    """Post sales; (points posted per member as the till was told, refusals, ids of the shared keys)."""
    location, seed, members = job
    rng, told, refused, shared = random.Random(seed), {}, 0, []
    with loyaltyctl.connect(location) as ledger:
        for sale in range(SALES):
            member = rng.choice(members)
            try:
                if sale % 3 == 2:
                    posted = ledger.redeem("club", member, points=rng.randrange(20, 120), key=f"till{seed}-{sale}")
                else:
                    posted = ledger.earn("club", member, rng.randrange(5, 60), reason="sale", key=f"till{seed}-{sale}")
            except loyaltyctl.Refused as refusal:
                assert "short balance" in str(refusal), refusal
                refused += 1
                continue
            told[member] = told.get(member, 0) + sum(e.points for e in posted.entries)
        for n in range(SHARED_KEYS):
            posted = ledger.earn("club", members[n % len(members)], 10, reason="retried sale", key=f"shared-{n}")
            if not posted.duplicate:
                told[posted.member] = told.get(posted.member, 0) + 10
            shared.append(posted.entries[0].id)
    return told, refused, shared


def run_tills(members: list[str]) -> tuple[dict[str, int], int, list[list[int]]]:
    location = os.environ["LOYALTYCTL_DB"]
    with get_context("fork").Pool(TILLS) as pool:
        found = pool.map(till, [(location, seed, members) for seed in range(TILLS)])
    told: dict[str, int] = {}
    for by_member, _, _ in found:
        for member, points in by_member.items():
            told[member] = told.get(member, 0) + points
    return told, sum(refused for _, refused, _ in found), [shared for _, _, shared in found]


@pytest.fixture
def club(tmp_path) -> list[str]:
    members = [f"M{n}" for n in range(8)]
    with loyaltyctl.connect(os.environ["LOYALTYCTL_DB"], create=True) as ledger:
        ledger.apply_programs([loyaltyctl_program(tmp_path)])
        for member in members:
            ledger.add_member("club", {"member_id": member})
    return members


@pytest.mark.parametrize("scope", ["random members", "one member"])
def test_tills_at_once_lose_nothing_overspend_nothing_and_post_each_key_once(club, scope):
    members = club if scope == "random members" else club[:1]
    told, refused, shared = run_tills(members)
    assert all(ids == shared[0] for ids in shared)  # every till was given the same entry for each shared key
    with loyaltyctl.connect(os.environ["LOYALTYCTL_DB"]) as ledger:
        balances = {member: ledger.balance("club", member).points for member in club}
        verified = ledger.verify()
        entries = verified.entries
    assert balances == {member: told.get(member, 0) for member in club}
    assert min(balances.values()) >= 0  # no redemption ever took more than the member had
    postings = TILLS * SALES - refused + SHARED_KEYS  # each accepted sale one entry, each shared key one
    assert (entries, verified.ok, verified.problems) == (postings, True, ())
