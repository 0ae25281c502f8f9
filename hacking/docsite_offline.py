"""Make the docs site that ``antsibull-docs sphinx-init`` set up build without network access.

The generated ``conf.py`` maps intersphinx to the Python, Jinja and Ansible docs and fetches their
inventories at build time. Here only the package index is reachable, so ``make docs`` calls this script:
it keeps the Ansible mapping alone and reads it from a small inventory written here, with the labels of
the Ansible docs that antsibull-docs' pages refer to. Links still point at docs.ansible.com; a reference
to any other label of the Ansible docs fails the build (sphinx-build -W), which is when to add it here.

    python hacking/docsite_offline.py DOCSITE_DIR
"""
from __future__ import annotations

import os
import sys
import zlib

ANSIBLE_DOCS = "https://docs.ansible.com/projects/ansible/devel/"
# label -> (page, title), as the Ansible docs define them.
LABELS = {
    "action_plugins": ("plugins/action.html#action-plugins", "Action plugins"),
    "ansible_configuration_settings": ("reference_appendices/config.html#ansible-configuration-settings",
                                       "Ansible Configuration Settings"),
    "common_return_values": ("reference_appendices/common_return_values.html#common-return-values", "Return Values"),
}

CONF = """
# Written by hacking/docsite_offline.py: no inventory is downloaded; the Ansible docs' labels come from a local file.
intersphinx_mapping = {{'ansible_devel': ('{url}', ('../ansible_devel.inv',))}}
"""


def inventory() -> bytes:
    header = (b"# Sphinx inventory version 2\n# Project: Ansible\n# Version: devel\n"
              b"# The remainder of this file is compressed using zlib.\n")
    lines = "".join(f"{label} std:label -1 {page} {title}\n" for label, (page, title) in sorted(LABELS.items()))
    return header + zlib.compress(lines.encode("utf-8"))


def main() -> int:
    docsite = sys.argv[1]
    with open(os.path.join(docsite, "ansible_devel.inv"), "wb") as handle:
        handle.write(inventory())
    with open(os.path.join(docsite, "conf.py"), "a", encoding="utf-8") as handle:
        handle.write(CONF.format(url=ANSIBLE_DOCS))
    return 0


if __name__ == "__main__":
    sys.exit(main())
