"""An idempotent re-run decides from Vault alone: it must not even import cryptography, nor the parts of the
collection that enroll, order, collect or talk to SCM (docs/bench.md: a process compiles what it imports)."""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap

import ansible

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
LINK_BASE = os.path.join(ROOT, ".build", "pytest")

SCRIPT = textwrap.dedent("""
    import json
    import sys
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService

    RECORD = {"cert_unique_id": "7_acme", "name": "web01", "status": "Issued", "ssl_id": 7, "domain": "web01.example.com",
              "requested_sans": ["www.example.com"], "subject": {}, "key_algo": "EC", "key_size": 256,
              "not_before": "2026-01-01T00:00:00Z", "not_after": "2099-01-01T00:00:00Z"}
    DATA = {"names/prod/web01": {"name": "web01", "cert_unique_id": "7_acme"}, "certs/prod/7_acme": RECORD}

    class Store:
        def read(self, path):
            return (dict(DATA[path]), 1) if path in DATA else (None, 0)

        def write(self, path, value, cas):
            raise AssertionError("a re-run wrote to Vault")

    def no_scm():
        raise AssertionError("a re-run called SCM")

    config = {"name": "prod", "config_type": "ssl_cert", "customer_uri": "acme", "org_id": 1, "defaults": {"cert_type": 101, "term": 365}}
    request, allow_enroll = json.loads(sys.argv[1])
    result = CertificateService(Store(), config, no_scm).ensure(CertRequest(config="prod", **request), allow_enroll=allow_enroll)
    assert not result.changed, result
    print(sorted(name for name in sys.modules if name.split(".")[0] == "cryptography"))
    prefix = "ansible_collections.sectigo.vault_pki.plugins.module_utils."
    print(sorted(name[len(prefix):] for name in sys.modules if name.startswith(prefix) and sys.modules[name].__file__))
""")

# What a no-op may import from module_utils: the vocabulary, validation, Vault (with its requests session, _http), the
# claims (to see that no other run holds one), the shared steps and the decisions; not enrollment, the SCM client or its
# errors, the collector, profiles or renewals.
NOOP_MODULE_UTILS = {"_errors", "_http", "_lifecycle.kinds", "_lifecycle.repository", "_lifecycle.request", "_lifecycle.crypto",
                     "_lifecycle.claims", "_lifecycle.steps", "_lifecycle.service", "_lifecycle.records", "_lifecycle.schedule",
                     "_vault.auth", "_vault.client", "_vault.options", "_vault.store"}


def imports_of(request: dict, *, allow_enroll: bool = True) -> tuple[str, set[str]]:
    """The cryptography modules and the module_utils files one ``ensure`` of the issued web01 imports, in a fresh process."""
    # ansible itself from wherever this process found it (ansible-test units puts it on a path of its own).
    ansible_root = os.path.dirname(os.path.dirname(ansible.__file__))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([LINK_BASE, ansible_root]))
    out = subprocess.run([sys.executable, "-c", SCRIPT, json.dumps([request, allow_enroll])], env=env, capture_output=True,
                         text=True, timeout=60, check=False)
    assert out.returncode == 0, out.stderr
    crypto_modules, own = out.stdout.strip().splitlines()
    return crypto_modules, set(ast.literal_eval(own))


def test_a_noop_ensure_does_not_import_cryptography():
    crypto_modules, own = imports_of({"name": "web01", "common_name": "web01.example.com", "subject_alt_names": ["www.example.com"],
                                      "key_algo": "EC"})
    assert crypto_modules == "[]"
    assert own <= NOOP_MODULE_UTILS, own


def test_a_read_by_name_imports_no_key_or_san_checks():
    # The lookup's read gives no subject, SANs or key: the syntax checks of _crypto are not even compiled.
    crypto_modules, own = imports_of({"name": "web01"}, allow_enroll=False)
    assert crypto_modules == "[]"
    assert own <= NOOP_MODULE_UTILS - {"_lifecycle.crypto"}, own
