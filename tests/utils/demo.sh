#!/usr/bin/env bash
# `make demo`: the collection at work on the offline lab, from a fresh clone (make setup has run).
# Brings the lab up with 3 Debian hosts (tests/lab/README.md), onboards them with playbooks/onboard.yml into the
# cluster "demo", prints the fleet report (playbooks/report.yml) and checks from its JSON that all 3 hosts are
# healthy. Tear down with `make demo-down` (tests/lab/lab down). Needs root and systemd-nspawn, as the lab does.
# Set LAB_INSTANCE / LAB_SUBNET to run it beside other labs; DEMO_HOSTS (default 3) for another size.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
repo=$PWD
hosts=${DEMO_HOSTS:-3}
cluster=demo
state_dir=${LAB_STATE_DIR:-$repo/.lab}
inventory=$state_dir/inventory.yml
report_dir=$repo/demo-report
log_dir=$repo/tests/output/demo
export PATH=$repo/.venv/bin:$PATH ANSIBLE_NOCOLOR=1 ANSIBLE_FORCE_COLOR=0
started=$SECONDS
mkdir -p "$log_dir"

step() { printf '\n==> [%4ds] %s\n' $((SECONDS - started)) "$*"; }

step "lab setup: install what the lab needs (idempotent)"
tests/lab/lab setup >"$log_dir/lab-setup.log" 2>&1 || { tail -20 "$log_dir/lab-setup.log"; exit 1; }

step "lab up --hosts $hosts: Debian hosts behind a password proxy, a signed mirror, the AWS emulator"
tests/lab/lab up --hosts "$hosts"

step "onboard.yml: preflight, IAM and the cluster '$cluster', activation, Docker, SSM agent, ECS agent, verify"
echo "    (log: $log_dir/onboard.log)"
if ! ansible-playbook -i "$inventory" playbooks/onboard.yml -e "ecs_anywhere_cluster=$cluster" \
  >"$log_dir/onboard.log" 2>&1; then
  tail -40 "$log_dir/onboard.log"
  echo "demo: onboard.yml failed (whole log: $log_dir/onboard.log); tear down with: make demo-down" >&2
  exit 1
fi
sed -n '/^PLAY RECAP/,$p' "$log_dir/onboard.log"

step "report.yml: the fleet of cluster '$cluster' as AWS sees it"
rm -rf "$report_dir"
ansible-playbook -i "$inventory" playbooks/report.yml -e "ecs_anywhere_cluster=$cluster" \
  -e "report_output_dir=$report_dir" >"$log_dir/report.log" 2>&1 || { tail -40 "$log_dir/report.log"; exit 1; }
# The console table and the line naming the files, from the role's two debug tasks.
sed -n '/TASK \[ecs_anywhere.fleet.report : Show the fleet\]/,/^TASK \[ecs_anywhere.fleet.report : Create/p' \
  "$log_dir/report.log" | sed '1d;$d'
grep -o '"msg": "Report: [^"]*"' "$log_dir/report.log" | sed 's/^"msg": "//; s/"$//'

python3 - "$report_dir/fleet-report.json" "$hosts" "$cluster" <<'EOF'
import json
import sys

path, expected, cluster = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(path, encoding="utf-8") as handle:
    report = json.load(handle)
summary = report["summary"]
healthy = [
    r["computer_name"]
    for r in report["instances"]
    if r.get("cluster") == cluster and r.get("ping_status") == "Online" and r.get("ecs_status") == "ACTIVE"
    and r.get("agent_connected") and r.get("registered_in") == "both" and r.get("severity") == "ok"
]
print("demo: %d of %d hosts healthy in cluster %s (Online in SSM, ACTIVE and connected in ECS): %s" % (
    len(healthy), expected, cluster, ", ".join(sorted(healthy))))
print("demo: report summary: %(total)d hosts, %(problem)d with problems, %(warning)d with warnings, %(ok)d ok" % summary)
if len(healthy) != expected or summary.get("problem"):
    sys.exit("demo: expected %d healthy hosts and no problems; see %s" % (expected, path))
EOF

step "done in $((SECONDS - started)) s"
cat <<EOF
  HTML report: $report_dir/fleet-report.html (self-contained; open it in a browser), JSON beside it
  logs:        $log_dir/
  try:         .venv/bin/ansible -i $inventory ecs_anywhere_hosts -b -m ansible.builtin.command -a 'systemctl is-active ecs amazon-ssm-agent'
               .venv/bin/ansible-playbook -i $inventory playbooks/onboard.yml -e ecs_anywhere_cluster=$cluster   # again: changed=0
  tear down:   make demo-down   (tests/lab/lab down: stops the hosts, proxy, mirror and emulator, removes .lab/)
EOF
