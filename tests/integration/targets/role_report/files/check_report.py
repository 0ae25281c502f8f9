"""Check the report's files as a reader would: metrics.prom parsed by prometheus_client's parser, expiry.png opened as an
image by matplotlib, report.html naming every certificate with an inline picture. Prints a JSON summary."""
import json
import sys

from matplotlib import image
from prometheus_client.parser import text_string_to_metric_families

directory, names = sys.argv[1], json.loads(sys.argv[2])
with open(f"{directory}/metrics.prom", encoding="utf-8") as handle:
    families = {family.name: family for family in text_string_to_metric_families(handle.read())}
with open(f"{directory}/expiry.png", "rb") as handle:
    signature = handle.read(8)
picture = image.imread(f"{directory}/expiry.png")
with open(f"{directory}/report.html", encoding="utf-8") as handle:
    page = handle.read()
with open(f"{directory}/report.json", encoding="utf-8") as handle:
    document = json.load(handle)
print(json.dumps({
    "metrics": sorted(families),
    "not_after_names": sorted({s.labels["name"] for s in families["x509_cert_not_after"].samples}),
    "renew_after": len(families["x509_cert_renew_after"].samples),
    "png": signature == b"\x89PNG\r\n\x1a\n" and picture.shape[0] > 100 and picture.shape[1] > 100,
    "html_names": [n for n in names if f"<td>{n}</td>" in page],
    "html_image": "data:image/png;base64," in page,
    "json_names": sorted(c["name"] for c in document["certificates"]),
}))
