#!/usr/bin/env bash
# `make docs`: the collection's documentation site (modules, inventory plugin, filters, roles), built offline with
# antsibull-docs and Sphinx (pinned in requirements-dev.txt) into VENV/docs/build/html.
#
#   tests/utils/build_docs.sh VENV
#
# antsibull-docs sphinx-init writes the site's skeleton afresh each time; its conf.py is then made offline
# (intersphinx off: no objects.inv from docs.python.org or docs.ansible.com), and antsibull-docs stops on any
# documentation error (--fail-on-error; DOCS_LENIENT=1 makes error pages instead). Where the user may create network namespaces (root), the build runs in one
# with no network at all, so that it cannot reach the internet even by accident.
set -euo pipefail
venv=$1
export PATH=$venv/bin:$PATH ANSIBLE_COLLECTIONS_PATH=$venv/collections
site=$venv/docs
rm -rf "$site"
mkdir -m 0700 "$site"
antsibull-docs sphinx-init --use-current --fail-on-error --lenient --dest-dir "$site" ecs_anywhere.fleet >/dev/null
cat >>"$site/conf.py" <<'EOF'

# make docs (tests/utils/build_docs.sh): offline, no inventories fetched from the internet.
extensions = [name for name in extensions if name != 'sphinx.ext.intersphinx']
intersphinx_mapping = {}
EOF
if [ -n "${DOCS_LENIENT:-}" ]; then
  # DOCS_LENIENT=1: a plugin or role whose documentation antsibull-docs rejects gets an error page instead.
  sed -i '/^    --fail-on-error \\$/d' "$site/build.sh"
fi
offline=()
if unshare --net true 2>/dev/null; then
  offline=(unshare --net)
else
  echo "docs: cannot create a network namespace here (not root); building with intersphinx off only"
fi
"${offline[@]}" "$site/build.sh"
index=$site/build/html/collections/ecs_anywhere/fleet/index.html
[ -f "$index" ] || { echo "docs: FAILED, no $index"; exit 1; }
echo "docs: $index ($(find "$site/build/html/collections/ecs_anywhere/fleet" -name '*.html' | wc -l) pages)"
