# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shards of one sweep: which of ``count`` jobs handles a certificate (docs/scale.md "Sharded sweeps").

Private to this collection: no compatibility is promised to code outside it.

A certificate belongs to shard ``sha256("<config>/<name>") mod count`` (the first 8 bytes of the digest, big-endian).
The digest depends on nothing but the certificate's config and name: not on the order of a list, the host that runs
the job, the Python version or its hash seed (Python's ``hash()`` of a string changes with every process). So the
shards of one count are disjoint and together hold every certificate, whichever job runs which shard, and however
AWX slices the jobs. A ``/`` never occurs in a config or a certificate name, so ``<config>/<name>`` is unambiguous.

The renewal role computes the same digest in Jinja (``roles/renewal/templates/sort.j2``); a unit test holds the two
to the same answer.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Iterable, Iterator, TypeVar

from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError

T = TypeVar("T")


def shard_key(config: str, name: str) -> str:
    """The text whose digest places a certificate: ``<config>/<name>``."""
    return f"{config}/{name}"


def shard_of(config: str, name: str, count: int) -> int:
    """The shard (0 to ``count`` - 1) of the certificate ``name`` of ``config``."""
    digest = hashlib.sha256(shard_key(config, name).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count


@dataclass(frozen=True)
class Shard:
    """Shard ``index`` of ``count`` (index from 0)."""

    index: int
    count: int

    def holds(self, config: str, name: str) -> bool:
        return shard_of(config, name, self.count) == self.index

    def select(self, config: str, items: Iterable[T], name_of: Any = None) -> Iterator[T]:
        """The items of this shard, in their order; ``name_of(item)`` gives an item's name (default: the item itself)."""
        for item in items:
            if self.holds(config, name_of(item) if name_of else item):
                yield item

    def describe(self) -> str:
        return f"shard {self.index} of {self.count} (index from 0)"


def _whole(value: Any, field: str) -> int:
    if isinstance(value, bool):
        raise InputError(field, f"{field} must be a whole number; got {value!r}")
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise InputError(field, f"{field} must be a whole number; got {value!r}") from None
    if isinstance(value, float) and value != number:
        raise InputError(field, f"{field} must be a whole number; got {value!r}")
    return number


def parse_shard(value: Any, option: str = "shard") -> Shard | None:
    """``{index: i, count: n}`` (or None: no sharding) as a ``Shard``; ``InputError`` naming ``option`` otherwise.

    ``count`` is at least 1 and ``0 <= index < count``.
    """
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InputError(option, f"{option} must be a dict {{index: I, count: N}} with 0 <= I < N; got {type(value).__name__}")
    unknown = sorted(set(value) - {"index", "count"})
    if unknown:
        raise InputError(option, f"{option} takes only index and count; got {', '.join(map(str, unknown))}")
    for key in ("index", "count"):
        if value.get(key) is None:
            raise InputError(f"{option}.{key}", f"{option}.{key} is required: {option} is {{index: I, count: N}} with 0 <= I < N")
    count = _whole(value["count"], f"{option}.count")
    index = _whole(value["index"], f"{option}.index")
    if count < 1:
        raise InputError(f"{option}.count", f"{option}.count must be at least 1; got {count}")
    if not 0 <= index < count:
        raise InputError(f"{option}.index", f"{option}.index must be from 0 to {count - 1} ({option}.count - 1); got {index}")
    return Shard(index, count)
