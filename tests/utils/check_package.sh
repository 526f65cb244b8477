#!/usr/bin/env bash
# Install the built collection tarball into a scratch collections path (beside amazon.aws only),
# then check that every module in plugins/modules/, every inventory plugin in plugins/inventory/ and every role in
# roles/ is listed and documented from the package: `ansible-doc` must succeed for each (a role whose
# meta/argument_specs.yml does not parse as documentation crashes `ansible-doc -t role`, and fails here).
#
#   tests/utils/check_package.sh VENV [TARBALL [TREE]]
#
# TARBALL defaults to VENV/build/ecs_anywhere-fleet-*.tar.gz, TREE (whose plugins and roles must all be in the
# package) to the current directory; PACKAGE_CHECK_ROOT (default VENV/package-check) is the scratch path.
set -euo pipefail
shopt -s nullglob
venv=$1
tarball=${2:-$(ls "$venv"/build/ecs_anywhere-fleet-*.tar.gz)}
tree=${3:-.}
root=${PACKAGE_CHECK_ROOT:-$venv/package-check}
rm -rf "$root"
mkdir -p "$root/ansible_collections"
ln -s "$venv/collections/ansible_collections/amazon" "$root/ansible_collections/amazon"
ANSIBLE_COLLECTIONS_PATH=$root ansible-galaxy collection install --force --offline --no-deps -p "$root" "$tarball"
export ANSIBLE_COLLECTIONS_PATH=$root ANSIBLE_NOCOLOR=1
status=0
checked=()
# documented <type> <name>: ansible-doc succeeds for it and documents it from the installed package.
documented() {
  local type=$1 name=$2 out
  if ! out=$(ansible-doc -t "$type" "ecs_anywhere.fleet.$name" 2>&1); then
    printf '%s\n' "$out" | tail -3
    echo "FAILED: ansible-doc -t $type ecs_anywhere.fleet.$name failed (see above)"; status=1
  elif ! printf '%s\n' "$out" | head -1 | grep -qF "$root/"; then
    echo "FAILED: $type ecs_anywhere.fleet.$name was not documented from the installed package"; status=1
  fi
}
# check_plugins <type> <directory>: each <directory>/*.py is listed by ansible-doc -t <type> and documented.
check_plugins() {
  local type=$1 dir=$2 path plugin
  ansible-doc -t "$type" -l ecs_anywhere.fleet | tee "$root/$type.txt"
  for path in "$dir"/*.py; do
    plugin=$(basename "$path" .py)
    if ! grep -q "^ecs_anywhere.fleet.$plugin " "$root/$type.txt"; then
      echo "FAILED: $type $plugin is missing from the package"; status=1
    else
      documented "$type" "$plugin"
    fi
    checked+=("$type:$plugin")
  done
}
# check_roles: each role of <tree>/roles is listed by ansible-doc -t role -l and its documentation renders.
check_roles() {
  local path role
  ansible-doc -t role -l ecs_anywhere.fleet | tee "$root/role.txt"
  for path in "$tree"/roles/*/; do
    role=$(basename "$path")
    if ! grep -q "^ecs_anywhere.fleet.$role:" "$root/role.txt"; then
      echo "FAILED: role $role is missing from the package (or has no meta/argument_specs.yml)"; status=1
    else
      documented role "$role"
    fi
    checked+=("role:$role")
  done
}
check_plugins module "$tree/plugins/modules"
check_plugins inventory "$tree/plugins/inventory"
check_roles
if [ $status -eq 0 ]; then
  echo "package: $tarball installs; all ${#checked[@]} modules, inventory plugins and roles documented from it"
fi
exit $status
