# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SCM certificate profiles kept in Vault at ``profiles/<config>/<profile_id>``, and the checks made against them.

Private to this collection: no compatibility is promised to code outside it.

SCM has no per-profile endpoint: a profile is found in the kind's list of types (docs/scm-protocol.md).
"""
from __future__ import annotations

from typing import Any

from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle import records as rec
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.kinds import CertKind
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.repository import KvStore
from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import whole_number
from ansible_collections.sectigo.vault_pki.plugins.module_utils._errors import InputError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultCasConflict

PROFILE_FIELDS = ("id", "name", "description", "terms", "keyTypes", "useSecondaryOrgName")


def check_against_profile(profile: dict[str, Any], *, term: int | None, key_algo: str | None, key_param: str | None) -> None:
    """Raise InputError when ``term`` or the key is not allowed by ``profile`` (before any order)."""
    pid = profile.get("id")
    terms = [int(t) for t in profile.get("terms") or []]
    if term is not None and terms and int(term) not in terms:
        raise InputError("term", f"term must be one of {', '.join(map(str, terms))} for profile {pid} ({profile.get('name')}); got {term}")
    key_types = profile.get("keyTypes")
    if key_algo and key_types:
        allowed = {algo.upper(): [str(p) for p in params] for algo, params in key_types.items()}
        if key_algo.upper() not in allowed:
            raise InputError("key_algo", f"key_algo must be one of {', '.join(sorted(allowed))} for profile {pid}; got {key_algo}")
        params = allowed[key_algo.upper()]
        if key_param and params and key_param not in params:
            field = "key_curve" if key_algo.upper() == "EC" else "key_size"
            raise InputError(field, f"{field} must be one of {', '.join(params)} for {key_algo} keys in profile {pid}; got {key_param}")


def check_mandatory_fields(scm_fields: list[dict[str, Any]], given: list[dict[str, str]] | None, config_name: str) -> None:
    """Raise InputError naming every custom field SCM marks mandatory that ``given`` lacks (SCM would answer -62)."""
    have = {str(item.get("name")) for item in given or [] if str(item.get("value") or "").strip()}
    missing = [str(item.get("name")) for item in scm_fields if item.get("mandatory") and str(item.get("name")) not in have]
    if missing:
        raise InputError("custom_fields", f"custom_fields must give a value for SCM's mandatory field{'s' if len(missing) > 1 else ''} "
                                          f"{', '.join(repr(m) for m in missing)} (config '{config_name}'); "
                                          "set them on the task or as a config default")


class Profiles:
    """SCM profiles of one config kept in Vault: sectigo_profile(_info) manage them, sectigo_cert checks against them."""

    def __init__(self, store: KvStore, config: dict[str, Any], kind: CertKind, *, check_mode: bool = False) -> None:
        self.store = store
        self.config = config
        self.kind = kind
        self.check_mode = check_mode

    def _path(self, profile_id: int) -> str:
        return rec.profile_path(self.config["name"], profile_id)

    def get(self, profile_id: int) -> dict[str, Any] | None:
        """The stored profile, from Vault only."""
        return self.store.read(self._path(profile_id))[0]

    def list(self) -> list[dict[str, Any]]:
        profiles = []
        for key in self.store.list(rec.profiles_dir(self.config["name"])):
            data = self.store.read(self._path(key))[0]
            if data:
                profiles.append(data)
        return sorted(profiles, key=lambda p: int(p.get("id") or 0))

    def _download(self, profile_id: int, org_id: int | None, field: str) -> dict[str, Any]:
        types = self.kind.list_types(org_id=org_id)
        for item in types:
            if str(item.get("id")) == str(profile_id):
                return {k: item.get(k) for k in PROFILE_FIELDS if k in item}
        offered = self.kind.list_types() if org_id is not None else types
        raise InputError(field, f"{field} must be one of the profiles SCM offers to config '{self.config['name']}' "
                                f"({', '.join(str(item.get('id')) for item in offered)}); got {profile_id}")

    def for_order(self, profile_id: int) -> dict[str, Any] | None:
        """The profile an order is checked against (``verify_profile``): stored, else downloaded and stored.

        In check mode nothing is downloaded: None when the profile is not stored yet.
        """
        stored, _version = self.store.read(self._path(profile_id))
        if stored or self.check_mode:
            return stored
        downloaded = self._download(profile_id, self.config.get("org_id"), "cert_type")
        try:
            self.store.write(self._path(profile_id), downloaded, cas=0)
        except VaultCasConflict:
            pass  # another run stored it first; SCM gave both the same profile
        return downloaded

    def ensure_present(self, profile_id: int, *, refresh: bool = False, org_id: int | None = None) -> tuple[bool, dict[str, Any]]:
        """Download the profile unless stored (or ``refresh``); changed only when Vault's copy changes."""
        whole_number(profile_id, "profile_id", 1)
        if org_id is not None:
            whole_number(org_id, "org_id", 1)
        stored, version = self.store.read(self._path(profile_id))
        if stored is not None and not refresh:
            return False, stored
        if stored is None and self.check_mode:
            return True, {"id": profile_id}
        downloaded = self._download(profile_id, org_id, "profile_id")
        if downloaded == stored:
            return False, stored
        if not self.check_mode:
            self.store.write(self._path(profile_id), downloaded, cas=version)
        return True, downloaded

    def custom_fields(self, *, refresh: bool = False) -> list[dict[str, Any]] | None:
        """SCM's custom-field list for the config's kind, kept at ``custom_fields/<config>``: stored, else downloaded and stored.

        In check mode nothing is downloaded: None when the list is not stored yet.
        """
        path = rec.custom_fields_path(self.config["name"])
        stored, version = self.store.read(path)
        if self.check_mode or (stored is not None and not refresh):
            return None if stored is None else list(stored.get("fields") or [])
        fields = [{k: item.get(k) for k in ("id", "name", "mandatory") if k in item} for item in self.kind.list_custom_fields()]
        if stored is None or stored.get("fields") != fields:
            try:
                self.store.write(path, {"fields": fields}, cas=version)
            except VaultCasConflict:
                pass  # another run stored SCM's list first
        return fields

    def ensure_absent(self, profile_id: int) -> tuple[bool, dict[str, Any]]:
        whole_number(profile_id, "profile_id", 1)
        stored, _version = self.store.read(self._path(profile_id))
        if stored is None:
            return False, {}
        if not self.check_mode:
            self.store.delete(self._path(profile_id))
        return True, stored
