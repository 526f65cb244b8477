#!/usr/bin/env bash
# Install the built collection tarball into a scratch collections path (beside amazon.aws only),
# then check that every module in plugins/modules/ and every inventory plugin in plugins/inventory/ is listed and
# documented from the package.
set -euo pipefail
venv=$1
root=$venv/package-check
tarball=$(ls "$venv"/build/ecs_anywhere-fleet-*.tar.gz)
rm -rf "$root"
mkdir -p "$root/ansible_collections"
ln -s "$venv/collections/ansible_collections/amazon" "$root/ansible_collections/amazon"
ANSIBLE_COLLECTIONS_PATH=$root ansible-galaxy collection install --force --offline --no-deps -p "$root" "$tarball"
export ANSIBLE_COLLECTIONS_PATH=$root
status=0
# check_plugins <type> <directory>: each <directory>/*.py is listed by ansible-doc -t <type> and documented from $root.
check_plugins() {
  local type=$1 dir=$2 path plugin
  ansible-doc -t "$type" -l ecs_anywhere.fleet | tee "$root/$type.txt"
  for path in "$dir"/*.py; do
    plugin=$(basename "$path" .py)
    if ! grep -q "^ecs_anywhere.fleet.$plugin " "$root/$type.txt"; then
      echo "FAILED: $type $plugin is missing from the package"; status=1
    elif ! ansible-doc -t "$type" "ecs_anywhere.fleet.$plugin" | head -1 | grep -q "$root/"; then
      echo "FAILED: $type ecs_anywhere.fleet.$plugin was not documented from the installed package"; status=1
    fi
  done
}
check_plugins module plugins/modules
check_plugins inventory plugins/inventory
[ $status -eq 0 ] && echo "package: $tarball installs; all modules and inventory plugins documented from it"
exit $status
