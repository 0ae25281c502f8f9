"""Write the docs site's guides (docs/docsite/rst/*.rst) from the Markdown guides in docs/.

The Markdown files stay the source (they read well on the forge and in a checkout); the docs site that
antsibull-docs builds needs reStructuredText with labels of the form
``ansible_collections.sectigo.vault_pki.docsite.<name>``. ``make docs`` runs this before the build, so the
site and the tarball (``make galaxy``) always carry the current text; commit what it changes.

Conversion is pandoc's (the ``pypandoc-binary`` wheel ships it). Links between converted guides become
``:ref:`` links; links to other files of the repository point at the repository.

    python hacking/md_to_rst.py [--check]

``--check`` writes nothing and exits 1 when a guide would change.
"""
from __future__ import annotations

import argparse
import ast
import os
import re
import sys
import tempfile
import textwrap

import pygments.lexers
import pygments.token
import pygments.util
import pypandoc

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCS = os.path.join(ROOT, "docs")
RST = os.path.join(DOCS, "docsite", "rst")
LABEL = "ansible_collections.sectigo.vault_pki.docsite.{}"
REPOSITORY = "https://github.com/sectigo-vault-pki/vault_pki/blob/main/"

# Markdown guide (docs/<name>.md) -> name of the rst file and of its label.
GUIDES = {
    "install": "install_guide",
    "lifecycle": "lifecycle_guide",
    "vault": "vault_guide",
    "roles": "roles_guide",
    "inventory": "inventory_guide",
    "scm-simulator": "scm_simulator_guide",
    "scm-protocol": "scm_protocol_guide",
    "migrating-from-vault-plugin": "migrating_guide",
    "testing": "testing_guide",
    "reliability": "reliability_guide",
    "architecture": "architecture_guide",
    "scale": "scale_guide",
}

HEADER = """..
  Generated from docs/{source}.md by hacking/md_to_rst.py (make docs): edit the Markdown file, not this one.

.. _{label}:

"""

# Links are rewritten by a pandoc Lua filter, before pandoc lays out tables (a rewrite afterwards would break grid
# tables): a link to a converted guide becomes a :ref: to its label, any other relative link points at the
# repository, and link texts lose inline markup (rst cannot nest it).
LUA_FILTER = r"""
local guides = {GUIDES}
local label = "ansible_collections.sectigo.vault_pki.docsite."
local repository = "{REPOSITORY}"

local function resolve(path)
  if path == "." or path == "./" or path == "" then return "docs/" end
  if path:sub(1, 3) == "../" then return path:sub(4) end
  return "docs/" .. path
end

function Link(el)
  local target = el.target
  if target:match("^%a[%w+.-]*:") then return nil end
  local path = target:gsub("#.*$", "")
  local text = pandoc.utils.stringify(el.content)
  local name = path:match("^([%w_-]+)%.md$")
  if name and guides[name] then
    return pandoc.RawInline("rst", ":ref:`" .. text .. " <" .. label .. guides[name] .. ">`")
  end
  return pandoc.Link({{pandoc.Str(text)}}, repository .. resolve(path))
end
"""

FOREIGN_LABEL = re.compile(r"^\.\. _(?!ansible_collections\.)[^\n]*:\n\n", re.M)
CODE_BLOCK = re.compile(r"^\.\. code:: ([\w+-]+)\n\n((?:   .*\n|\n)+)", re.M)


def _lua_filter() -> str:
    table = "{" + ", ".join(f'["{md}"] = "{rst}"' for md, rst in GUIDES.items()) + "}"
    return LUA_FILTER.replace("{GUIDES}", table).replace("{REPOSITORY}", REPOSITORY).replace("{{", "{").replace("}}", "}")


def _highlightable(language: str, code: str) -> bool:
    """Whether the docs build can highlight *code* as *language*: the docs lint parses python blocks, and Sphinx
    warns (which fails the build) when pygments finds an error token."""
    if language == "python":
        try:
            ast.parse(code)
        except SyntaxError:
            return False
    try:
        lexer = pygments.lexers.get_lexer_by_name(language)
    except pygments.util.ClassNotFound:
        return False
    return not any(kind in pygments.token.Error for kind, dummy in lexer.get_tokens(code))


def _code_block(match: re.Match[str]) -> str:
    """A block that is a sketch (a signature with elisions, a policy snippet) is shown as plain text."""
    language, body = match.group(1), match.group(2)
    if _highlightable(language, textwrap.dedent(body)):
        return match.group(0)
    return ".. code:: text\n\n" + body


def convert(source: str) -> str:
    path = os.path.join(DOCS, f"{source}.md")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", encoding="utf-8") as lua:
        lua.write(_lua_filter())
        lua.flush()
        text = pypandoc.convert_file(path, "rst", format="gfm",
                                     extra_args=["--wrap=preserve", "--columns=160", f"--lua-filter={lua.name}"])
    text = CODE_BLOCK.sub(_code_block, text)
    # pandoc labels headings whose GitHub anchor differs from rst's own; the docs site allows only labels with the
    # collection's prefix, and no link uses these.
    text = FOREIGN_LABEL.sub("", text)
    return HEADER.format(source=source, label=LABEL.format(GUIDES[source])) + text.rstrip() + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a guide would change")
    args = parser.parse_args()
    os.makedirs(RST, exist_ok=True)
    stale = []
    for source, name in GUIDES.items():
        target = os.path.join(RST, f"{name}.rst")
        text = convert(source)
        old = open(target, encoding="utf-8").read() if os.path.exists(target) else None
        if old == text:
            continue
        stale.append(os.path.relpath(target, ROOT))
        if not args.check:
            with open(target, "w", encoding="utf-8") as handle:
                handle.write(text)
    for path in stale:
        print(f"{'stale' if args.check else 'wrote'} {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
