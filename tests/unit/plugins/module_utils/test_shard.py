"""Shards of a sweep: disjoint, covering, stable, and validated with the option named."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys

import pytest

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.shard import Shard, parse_shard, shard_of

NAMES = [f"web{i:04d}" for i in range(2000)] + ["api", "a", "A", "x.y-z_1", "0"]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 7, 8, 10, 16, 31, 64, 100])
def test_shards_are_disjoint_and_cover_every_name(count):
    shards = [Shard(i, count) for i in range(count)]
    held = [set(shard.select("prod", NAMES)) for shard in shards]
    assert sum(len(h) for h in held) == len(NAMES)  # disjoint: no name counted twice
    assert set().union(*held) == set(NAMES)  # cover
    for name in NAMES[:50]:
        assert [shard.holds("prod", name) for shard in shards].count(True) == 1


@pytest.mark.parametrize("count", [2, 4, 8])
def test_shards_are_roughly_even(count):
    sizes = [len(list(Shard(i, count).select("prod", NAMES))) for i in range(count)]
    assert min(sizes) > 0.8 * len(NAMES) / count and max(sizes) < 1.2 * len(NAMES) / count


def test_the_shard_depends_on_config_and_name_only():
    forward = list(Shard(1, 4).select("prod", NAMES))
    backward = list(Shard(1, 4).select("prod", list(reversed(NAMES))))
    assert sorted(forward) == sorted(backward)
    assert forward == [n for n in NAMES if n in set(forward)]  # the list's order is kept
    assert {shard_of("prod", n, 4) for n in NAMES} == {0, 1, 2, 3}
    assert [shard_of("prod", n, 97) for n in NAMES] != [shard_of("test", n, 97) for n in NAMES]


def test_the_digest_is_sha256_of_config_slash_name():
    digest = hashlib.sha256(b"prod/web0001").digest()
    assert shard_of("prod", "web0001", 1000) == int.from_bytes(digest[:8], "big") % 1000


def test_the_shard_is_the_same_in_another_process():
    # Python's hash() of a string changes from process to process; the shard must not.
    code = ("import sys; sys.path.insert(0, sys.argv[1]); "
            "from ansible_collections.sectigo.vault_pki.plugins.module_utils._estate.shard import shard_of; "
            "print([shard_of('prod', f'web{i:04d}', 7) for i in range(200)])")
    base = [p for p in sys.path if os.path.isdir(os.path.join(p, "ansible_collections", "sectigo"))][0]
    out = subprocess.run([sys.executable, "-c", code, base], capture_output=True, text=True, check=True,
                         env=dict(os.environ, PYTHONHASHSEED="12345")).stdout
    assert out.strip() == str([shard_of("prod", f"web{i:04d}", 7) for i in range(200)])


def test_items_are_selected_by_their_name():
    items = [{"name": n, "common_name": f"{n}.example.com"} for n in NAMES[:40]]
    chosen = list(Shard(0, 3).select("prod", items, name_of=lambda item: item["name"]))
    assert chosen == [item for item in items if shard_of("prod", item["name"], 3) == 0]


def test_parse_shard_accepts_index_and_count():
    assert parse_shard(None) is None
    assert parse_shard({"index": 0, "count": 1}) == Shard(0, 1)
    assert parse_shard({"index": "3", "count": "4"}) == Shard(3, 4)


@pytest.mark.parametrize("value, field, words", [
    ({"index": 0, "count": 0}, "shard.count", "at least 1"),
    ({"index": 0, "count": -2}, "shard.count", "at least 1"),
    ({"index": 4, "count": 4}, "shard.index", "from 0 to 3"),
    ({"index": -1, "count": 4}, "shard.index", "from 0 to 3"),
    ({"count": 4}, "shard.index", "required"),
    ({"index": 1}, "shard.count", "required"),
    ({"index": "one", "count": 4}, "shard.index", "whole number"),
    ({"index": 1.5, "count": 4}, "shard.index", "whole number"),
    ({"index": True, "count": 4}, "shard.index", "whole number"),
    ({"index": 0, "count": 2, "of": 3}, "shard", "only index and count"),
    ([0, 2], "shard", "must be a dict"),
])
def test_parse_shard_names_the_option(value, field, words):
    with pytest.raises(InputError) as info:
        parse_shard(value)
    assert info.value.field == field
    assert words in str(info.value) and field.split(".")[0] in str(info.value)


def test_the_role_option_name_is_used_in_messages():
    with pytest.raises(InputError) as info:
        parse_shard({"index": 2, "count": 2}, option="sectigo_renewal_shard")
    assert info.value.field == "sectigo_renewal_shard.index"
