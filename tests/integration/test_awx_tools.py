# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX/AAP material through the real tools, offline (no AWX server, no container engine):
- ansible-lint's `args` rule (experimental, so not enforced by the production profile) validates every awx.awx task
  of extensions/awx/controller/configure.yml with each loop item's real values against the module's argument spec
  (with the loops' templated values, the rule stops at the first type error it ignores, so the loops are unrolled);
  a bogus option proves the rule runs;
- `ansible-builder create` writes the build context; its Containerfile installs what we mean, and the image's
  install steps are rehearsed: the built collection tarball installed by ansible-galaxy into a scratch path,
  ansible-builder's own introspect.py collecting the Python requirements from meta/execution-environment.yml, and
  pip resolving them (--dry-run).
"""

import importlib.util
import json
import os
import re
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
AWX = os.path.join(REPO, "extensions", "awx")


def controller_vars():
    """tests/unit/extensions/awx_rules.py's controller_vars() (the integration tests are not a package)."""
    spec = importlib.util.spec_from_file_location(
        "awx_rules", os.path.join(REPO, "tests", "unit", "extensions", "awx_rules.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.controller_vars()


ITEM = re.compile(r"^\{\{ item\.([a-z_]+)(?: \| default\((.+)\))? \}\}$")


def unroll(playbook, variables):
    """configure.yml with each loop unrolled into literal tasks (the values vars/ecs_anywhere.yml gives them)."""
    (play,) = playbook
    tasks = []
    for task in play["tasks"]:
        (module,) = [k for k in task if "." in k]
        items = variables[task["loop"].strip("{} ")]
        for item in items:
            args = {}
            for key, value in task[module].items():
                match = ITEM.match(value) if isinstance(value, str) else None
                if not match:
                    args[key] = value
                elif match.group(1) in item:
                    args[key] = item[match.group(1)]
                elif match.group(2) != "omit":
                    args[key] = yaml.safe_load(match.group(2))
            tasks.append({"name": "%s %s" % (task["name"], item["name"]), module: args})
    return [{"name": play["name"], "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def lint_args(tmp_path, playbook):
    path = tmp_path / "configure.yml"
    path.write_text(yaml.safe_dump(playbook, sort_keys=False, explicit_start=True), encoding="utf-8")
    command = [
        os.path.join(BIN, "ansible-lint"),
        "--offline",
        "--nocolor",
        "-f",
        "pep8",
        "--enable-list",
        "args",
        "--skip-list",
        "yaml",  # the generated file's layout
        "--project-dir",
        str(tmp_path),
        str(path),
    ]
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(os.path.dirname(BIN), "collections"))
    env["PATH"] = BIN + os.pathsep + env["PATH"]
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False, timeout=300)
    return result.stdout + result.stderr


def test_awx_tasks_pass_ansible_lint_args(tmp_path):
    config = controller_vars()
    # The secrets come from a vault file at apply time: placeholders of the right type here.
    secrets = {
        k: "placeholder"
        for k in (
            "ecs_anywhere_awx_aws_access_key_id",
            "ecs_anywhere_awx_aws_secret_access_key",
            "ecs_anywhere_awx_ssh_user",
            "ecs_anywhere_awx_ssh_private_key",
        )
    }
    config = json.loads(json.dumps(config).replace("{{ ", "{{").replace(" }}", "}}"))
    for cred in config["controller_credentials"]:
        cred["inputs"] = {k: secrets[v.strip("{}")] if v.startswith("{{") else v for k, v in cred["inputs"].items()}
    with open(os.path.join(AWX, "controller", "configure.yml"), encoding="utf-8") as f:
        playbook = unroll(yaml.safe_load(f), config)
    tasks = playbook[0]["tasks"]
    assert len(tasks) == 11, [t["name"] for t in tasks]  # 2 credentials, EE, project, inventory, 5 templates, workflow
    assert not any("{{" in json.dumps(t) for t in tasks), "unresolved values would hide args findings"
    output = lint_args(tmp_path, playbook)
    assert "args[" not in output and "syntax-check" not in output and "processed" in output, output[-4000:]
    # The rule really runs: one unknown option and one bad choice are found.
    tasks[0]["awx.awx.credential"]["update_secret"] = True
    tasks[2]["awx.awx.execution_environment"]["pull"] = "sometimes"
    output = lint_args(tmp_path, playbook)
    assert "update_secret" in output and "sometimes" in output, output[-4000:]


def test_ansible_builder_create_and_the_install_steps(tmp_path):
    context = tmp_path / "context"
    subprocess.run(
        [
            os.path.join(BIN, "ansible-builder"),
            "create",
            "-f",
            os.path.join(AWX, "execution-environment.yml"),
            "-c",
            str(context),
            "--output-filename",
            "Containerfile",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    )
    containerfile = (context / "Containerfile").read_text(encoding="utf-8")
    assert 'ARG EE_BASE_IMAGE="quay.io/centos/centos:stream9"' in containerfile
    assert re.search(r'ARG ANSIBLE_INSTALL_REFS="ansible-core>=2\.17,<2\.20 ansible-runner>=2\.4"', containerfile)
    assert "ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml" in containerfile
    assert "introspect.py introspect --write-bindep=/tmp/src/bindep.txt --write-pip=/tmp/src/requirements.txt" in (
        containerfile
    )
    assert "RUN $PKGMGR install -y git-core" in containerfile
    with open(os.path.join(AWX, "requirements.yml"), encoding="utf-8") as f:
        assert yaml.safe_load((context / "_build" / "requirements.yml").read_text(encoding="utf-8")) == yaml.safe_load(
            f
        )

    # Rehearsal of the galaxy stage (this collection from its tarball, amazon.aws as the bundle ships it) ...
    # A clean environment, as in the image: nothing of this checkout's (make exports ANSIBLE_* and a PYTHONPATH of
    # .venv/collections; with that PYTHONPATH introspect.py finds no requirement at all).
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_") and k != "PYTHONPATH"}
    collections = tmp_path / "collections"
    env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    galaxy = os.path.join(BIN, "ansible-galaxy")
    subprocess.run(
        [galaxy, "collection", "build", "--force", "--output-path", str(tmp_path), REPO],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    (tarball,) = tmp_path.glob("ecs_anywhere-fleet-*.tar.gz")
    amazon = os.path.join(os.path.dirname(BIN), "collections", "ansible_collections", "amazon", "aws")
    subprocess.run(
        [galaxy, "collection", "install", "--offline", "--no-deps", "-p", str(collections), str(tarball), amazon],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    # ... the builder stage's introspection with the script ansible-builder put in the context ...
    pip_file = tmp_path / "requirements.txt"
    introspected = subprocess.run(
        [
            sys.executable,
            str(context / "_build" / "scripts" / "introspect.py"),
            "introspect",
            str(collections),
            "--write-pip",
            str(pip_file),
            "--write-bindep",
            str(tmp_path / "bindep.txt"),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert pip_file.exists(), "introspect.py found no Python requirement:\n%s%s" % (
        introspected.stdout,
        introspected.stderr,
    )
    wanted = pip_file.read_text(encoding="utf-8")
    assert "boto3>=1.35.0  # from collection ecs_anywhere.fleet" in wanted, wanted
    assert "botocore>=1.35.0  # from collection ecs_anywhere.fleet" in wanted, wanted
    # ... and pip resolving what the final stage installs.
    report = tmp_path / "report.json"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--dry-run",
            "--ignore-installed",
            "--report",
            str(report),
            "-r",
            str(pip_file),
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    resolved = {i["metadata"]["name"].lower() for i in json.loads(report.read_text(encoding="utf-8"))["install"]}
    assert {"boto3", "botocore"} <= resolved, resolved
