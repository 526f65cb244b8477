#!/usr/bin/env bash
# Install the built collection tarball into a scratch collections path (beside amazon.aws only),
# then check that every module in plugins/modules/ is listed and documented from the package.
set -euo pipefail
venv=$1
root=$venv/package-check
tarball=$(ls "$venv"/build/ecs_anywhere-fleet-*.tar.gz)
rm -rf "$root"
mkdir -p "$root/ansible_collections"
ln -s "$venv/collections/ansible_collections/amazon" "$root/ansible_collections/amazon"
ANSIBLE_COLLECTIONS_PATH=$root ansible-galaxy collection install --force --offline --no-deps -p "$root" "$tarball"
export ANSIBLE_COLLECTIONS_PATH=$root
ansible-doc -t module -l ecs_anywhere.fleet | tee "$root/modules.txt"
status=0
for path in plugins/modules/*.py; do
  module=$(basename "$path" .py)
  if ! grep -q "^ecs_anywhere.fleet.$module " "$root/modules.txt"; then
    echo "FAILED: module $module is missing from the package"; status=1
  elif ! ansible-doc -t module "ecs_anywhere.fleet.$module" | head -1 | grep -q "$root/"; then
    echo "FAILED: ecs_anywhere.fleet.$module was not documented from the installed package"; status=1
  fi
done
[ $status -eq 0 ] && echo "package: $tarball installs; all modules documented from it"
exit $status
