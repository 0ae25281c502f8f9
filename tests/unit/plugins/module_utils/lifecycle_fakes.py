"""In-memory stand-ins for Vault and SCM, for unit tests of the lifecycle service.

The SCM fake signs real certificates (a throw-away CA made with cryptography) so that the service's
parsing, leaf selection and key matching run for real; only the transport is faked.
"""
from __future__ import annotations

import copy
import datetime
import threading

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from ansible_collections.sectigo.vault_pki.plugins.module_utils._scm.errors import ScmConnectionError, ScmNotFoundError, ScmPending, ScmRequestError
from ansible_collections.sectigo.vault_pki.plugins.module_utils._vault.store import VaultCasConflict


class Ticking:
    """A monotonic clock that moves on only when the code under test sleeps; ``sleeps`` holds each sleep."""

    def __init__(self):
        self.now = 0.0
        self.sleeps = []

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds

    def monotonic(self):
        return self.now


class FakeStore:
    base_path = "sectigo-vault-pki"

    def __init__(self):
        self.data: dict[str, tuple[dict, int]] = {}
        self.writes = 0

    def read(self, path):
        if path not in self.data:
            return None, 0
        value, version = self.data[path]
        return copy.deepcopy(value), version

    def write(self, path, value, cas):
        current = self.data.get(path, (None, 0))[1]
        if cas != current:
            raise VaultCasConflict(f"check-and-set mismatch at {path}", path=path)
        self.data[path] = (copy.deepcopy(value), current + 1)
        self.writes += 1
        return current + 1

    def list(self, path):
        prefix = path.rstrip("/") + "/"
        return sorted({k[len(prefix):].split("/")[0] for k in self.data if k.startswith(prefix)})

    def delete(self, path):
        self.data.pop(path, None)


def _name(cn):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


class FakeCA:
    def __init__(self):
        self.key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.timezone.utc)
        self.cert = (x509.CertificateBuilder().subject_name(_name("Fake Root")).issuer_name(_name("Fake Root"))
                     .public_key(self.key.public_key()).serial_number(1).not_valid_before(now - datetime.timedelta(days=1))
                     .not_valid_after(now + datetime.timedelta(days=3650))
                     .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                     .sign(self.key, hashes.SHA256()))

    def sign(self, csr_pem, term, backdate=0):
        csr = x509.load_pem_x509_csr(csr_pem.encode())
        now = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=backdate)
        builder = (x509.CertificateBuilder().subject_name(csr.subject).issuer_name(self.cert.subject).public_key(csr.public_key())
                   .serial_number(x509.random_serial_number()).not_valid_before(now).not_valid_after(now + datetime.timedelta(days=term)))
        try:
            san = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName)
            builder = builder.add_extension(san.value, critical=False)
        except x509.ExtensionNotFound:
            pass
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM).decode()

    @property
    def root_pem(self):
        return self.cert.public_bytes(serialization.Encoding.PEM).decode()


class FakeScm:
    """Just enough of ScmClient for the service. ``pending_polls`` collects answer pending first."""

    def __init__(self, ca=None):
        self.ca = ca or FakeCA()
        self.orders: dict[int, dict] = {}
        self.next_id = 1000
        self.calls: list[str] = []
        self.pending_polls = 0
        self.backdate = 0
        self.fail_next_post_after_processing = False
        self.refuse_enroll = None
        self.custom_fields: list[dict] = []
        # Like SCM, one order is issued once however many runs collect it at the same time.
        self._issuing = threading.Lock()

    def _new(self, **order):
        self.next_id += 1
        order.update(id=self.next_id, status="Applied", cert=None, polls_left=self.pending_polls)
        self.orders[self.next_id] = order
        return self.next_id

    def _maybe_drop(self):
        if self.fail_next_post_after_processing:
            self.fail_next_post_after_processing = False
            raise ScmConnectionError("connection reset", may_have_reached=True)

    def enroll_ssl(self, **kw):
        self.calls.append("enroll_ssl")
        if self.refuse_enroll:
            raise ScmRequestError("refused", status=400, scm_code=self.refuse_enroll, description="refused")
        oid = self._new(kind="ssl", csr=kw["csr"], term=kw["term"], comments=kw.get("comments") or "",
                        cn=x509.load_pem_x509_csr(kw["csr"].encode()).subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)
        self._maybe_drop()
        return {"sslId": oid, "renewId": f"r{oid}"}

    def enroll_smime(self, **kw):
        self.calls.append("enroll_smime")
        oid = self._new(kind="smime", csr=kw["csr"], term=kw["term"], comments=kw.get("comments") or "", email=kw["email"], cn=kw["email"])
        self._maybe_drop()
        return {"orderNumber": oid, "backendCertId": str(oid)}

    def _collect(self, oid):
        with self._issuing:
            return self._collect_one(oid)

    def _collect_one(self, oid):
        order = self.orders[int(oid)]
        if order["status"] != "Issued":
            if order["status"] == "Applied" and order["polls_left"] <= 0:
                # Signed before the status says so: a second thread collecting the same order never sees an
                # issued order without its certificate.
                order["cert"] = self.ca.sign(order["csr"], order["term"], self.backdate)
                order["status"] = "Issued"
            else:
                order["polls_left"] -= 1
                raise ScmPending("pending", status=400, scm_code=0, description="Being processed by Sectigo")
        return (order["cert"] + self.ca.root_pem).encode()

    def collect_ssl(self, ssl_id, fmt="x509"):
        self.calls.append("collect_ssl")
        return self._collect(ssl_id)

    def collect_smime(self, backend_cert_id, fmt="x509"):
        self.calls.append("collect_smime")
        return self._collect(backend_cert_id)

    def _details_poll(self, order):
        """Reading the details of a pending order counts as one of its ``pending_polls`` too."""
        if order["status"] == "Applied":
            if order["polls_left"] <= 0:
                # Signed before the status says so: a second thread collecting the same order never sees an
                # issued order without its certificate.
                order["cert"] = self.ca.sign(order["csr"], order["term"], self.backdate)
                order["status"] = "Issued"
            else:
                order["polls_left"] -= 1

    def get_ssl(self, ssl_id):
        self.calls.append("get_ssl")
        if int(ssl_id) not in self.orders:
            raise ScmNotFoundError(f"no certificate {ssl_id}", status=400, scm_code=-124, description="Unknown certificate")
        order = self.orders[int(ssl_id)]
        self._details_poll(order)
        out = {"sslId": order["id"], "status": order["status"], "comments": order["comments"], "commonName": order["cn"], "term": order["term"]}
        if order["cert"]:
            out["serialNumber"] = format(x509.load_pem_x509_certificate(order["cert"].encode()).serial_number, "X")
        return out

    def iter_ssl(self, common_name=None, **_kw):
        self.calls.append("iter_ssl")
        for order in list(self.orders.values()):
            if order["kind"] == "ssl" and (common_name is None or order["cn"] == common_name):
                yield {"sslId": order["id"], "commonName": order["cn"]}

    def iter_smime(self, email=None, backend_cert_id=None, **_kw):
        self.calls.append("iter_smime")
        for order in list(self.orders.values()):
            if order["kind"] == "smime" and (email is None or order["email"] == email) and \
                    (backend_cert_id is None or str(order["id"]) == str(backend_cert_id)):
                if backend_cert_id is not None:
                    self._details_poll(order)
                yield {"orderNumber": order["id"], "backendCertId": str(order["id"]), "comments": order["comments"],
                       "state": order["status"].lower()}

    def renew_ssl(self, ssl_id, csr=None):
        self.calls.append("renew_ssl")
        old = self.orders[int(ssl_id)]
        oid = self._new(kind="ssl", csr=csr or old["csr"], term=old["term"], comments=old["comments"], cn=old["cn"])
        self._maybe_drop()
        return oid

    def renew_smime_by_order(self, backend_cert_id):
        self.calls.append("renew_smime")
        old = self.orders[int(backend_cert_id)]
        oid = self._new(kind="smime", csr=old["csr"], term=old["term"], comments=old["comments"], email=old["email"], cn=old["cn"])
        return {"orderNumber": oid, "backendCertId": str(oid)}

    def replace_ssl(self, ssl_id, *, csr, reason, common_name=None, subject_alt_names=None):
        self.calls.append("replace_ssl")
        order = self.orders[int(ssl_id)]
        order.update(csr=csr, status="Applied", cert=None, polls_left=self.pending_polls)
        self._maybe_drop()

    def revoke_ssl(self, ssl_id, *, reason, reason_code=0):
        self.calls.append("revoke_ssl")
        self.orders[int(ssl_id)]["status"] = "Revoked"

    def revoke_smime_by_order(self, backend_cert_id, *, reason="", reason_code=0):
        self.calls.append("revoke_smime")
        self.orders[int(backend_cert_id)]["status"] = "Revoked"

    def decline_ssl(self, ssl_id, message):
        self.calls.append("decline_ssl")
        order = self.orders[int(ssl_id)]
        if order["status"] not in ("Applied", "Requested"):
            raise ScmRequestError("not approvable", status=400, scm_code=-1, description="not approvable")
        order["status"] = "Declined"

    def list_ssl_custom_fields(self):
        self.calls.append("list_ssl_custom_fields")
        return list(self.custom_fields)

    def list_smime_custom_fields(self):
        self.calls.append("list_smime_custom_fields")
        return list(self.custom_fields)

    def list_ssl_types(self, org_id=None):
        self.calls.append("list_ssl_types")
        return [{"id": 101, "name": "OV", "terms": [365, 730], "keyTypes": {"RSA": ["2048", "3072", "4096"], "EC": ["P-256", "P-384"]}},
                {"id": 104, "name": "Legacy", "terms": [365], "keyTypes": {"RSA": ["2048"]}}]

    def list_smime_types(self, org_id=None):
        self.calls.append("list_smime_types")
        return [{"id": 201, "name": "S/MIME", "terms": [365, 730], "keyTypes": {"RSA": ["2048"], "EC": ["P-256"]}}]


def vault_with_one_certificate(config, name="web01", common_name="web01.example.com"):
    """A FakeStore holding ``config`` and one issued certificate ``name``, ordered through a FakeScm; both fakes."""
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.request import CertRequest
    from ansible_collections.sectigo.vault_pki.plugins.module_utils._lifecycle.service import CertificateService

    store, scm = FakeStore(), FakeScm()
    store.write(f"configs/{config['name']}", config, cas=0)
    CertificateService(store, config, lambda: scm, sleep=lambda s: None).ensure(
        CertRequest(config=config["name"], name=name, common_name=common_name))
    return store, scm
