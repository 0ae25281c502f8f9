# Copyright: sectigo.vault_pki contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations


class ModuleDocFragment:
    """The ``config`` option of every module that works inside one SCM config."""

    DOCUMENTATION = r"""
options:
  config:
    description: Name of the config (see M(sectigo.vault_pki.sectigo_config)) the certificates or profiles belong to.
    type: str
    required: true
    aliases: [config_name]
"""
