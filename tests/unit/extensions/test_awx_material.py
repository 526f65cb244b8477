# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX/AAP material (extensions/awx, collections/requirements.yml, meta/execution-environment.yml) holds up
without an AWX server: every survey passes AWX's own survey_spec validation and its defaults pass AWX's answer
validation (awx_rules.py cites the source); every survey variable is one the template's playbook or the roles read,
with a type and choices the roles' argument specs accept; the templates, workflow and requirements point at things
that exist."""

import os
import re

import pytest
import yaml
from packaging.specifiers import SpecifierSet

from ansible_collections.ecs_anywhere.fleet.tests.unit.extensions.awx_rules import REPO
from ansible_collections.ecs_anywhere.fleet.tests.unit.extensions.awx_rules import answer_errors
from ansible_collections.ecs_anywhere.fleet.tests.unit.extensions.awx_rules import controller_vars
from ansible_collections.ecs_anywhere.fleet.tests.unit.extensions.awx_rules import launch_extra_vars
from ansible_collections.ecs_anywhere.fleet.tests.unit.extensions.awx_rules import spec_errors

CONFIG = controller_vars()
TEMPLATES = {t["name"]: t for t in CONFIG["controller_templates"]}
SURVEYED = [(t["name"], t) for t in CONFIG["controller_templates"] + CONFIG["controller_workflows"]]
# AWX's survey types -> the argument spec types a role may declare for the variable.
ACCEPTS = {
    "text": {"str", "raw", "path"},
    "textarea": {"str", "raw"},
    "password": {"str", "raw"},
    "multiplechoice": {"str", "raw"},
    "multiselect": {"list"},
    "integer": {"int", "raw"},
    "float": {"float", "raw"},
}


def read(*path):
    with open(os.path.join(REPO, *path), encoding="utf-8") as f:
        return f.read()


def role_options():
    """{variable: (role, option spec)} over every role's argument spec."""
    options = {}
    for role in sorted(os.listdir(os.path.join(REPO, "roles"))):
        spec = yaml.safe_load(read("roles", role, "meta", "argument_specs.yml"))["argument_specs"]["main"]["options"]
        for name, option in spec.items():
            options[name] = (role, option)
    return options


def site_variables():
    """The ecs_anywhere_* variables the roles read as fallbacks of their own (argument spec defaults)."""
    names = set()
    for role in os.listdir(os.path.join(REPO, "roles")):
        names.update(re.findall(r"\b(ecs_anywhere_[a-z0-9_]+)\b", read("roles", role, "meta", "argument_specs.yml")))
    return names


@pytest.mark.parametrize("name, template", SURVEYED, ids=[s[0] for s in SURVEYED])
def test_survey_passes_awx_validation(name, template):
    assert template["survey_enabled"] is True
    assert spec_errors(template["survey_spec"]) is None
    for item in template["survey_spec"]["spec"]:
        if "default" in item:  # AWX drops a default that fails its answer validation, silently
            assert answer_errors(item, {item["variable"]: item["default"]}) == [], (name, item["variable"])
        assert item["question_description"], item["variable"]


BAD_SPECS = [
    ({"name": "s", "spec": [{}]}, "'description' is missing"),
    ({"name": "s", "description": "", "spec": []}, "doesn't contain any items"),
    ({"name": "s", "description": "", "spec": [{"type": "text", "question_name": "q", "variable": "v"}]}, "'required'"),
    (
        {
            "name": "s",
            "description": "",
            "spec": [{"type": "bool", "question_name": "q", "variable": "v", "required": True}],
        },
        "not one of",
    ),
    (
        {
            "name": "s",
            "description": "",
            "spec": [{"type": "integer", "question_name": "q", "variable": "v", "required": True, "default": "600"}],
        },
        "expected to be integer",
    ),
    (
        {
            "name": "s",
            "description": "",
            "spec": [
                {
                    "type": "multiplechoice",
                    "question_name": "q",
                    "variable": "v",
                    "required": True,
                    "choices": ["a"],
                    "default": "b",
                }
            ],
        },
        "from the choices",
    ),
    (
        {
            "name": "s",
            "description": "",
            "spec": [{"type": "multiselect", "question_name": "q", "variable": "v", "required": True}],
        },
        "must specify choices",
    ),
    (
        {
            "name": "s",
            "description": "",
            "spec": [
                {"type": "text", "question_name": "q", "variable": "v", "required": True},
                {"type": "text", "question_name": "r", "variable": "v", "required": True},
            ],
        },
        "duplicated",
    ),
    (
        {
            "name": "s",
            "description": "",
            "spec": [{"type": "text", "question_name": "q", "variable": "v", "required": "yes"}],
        },
        "expected to be bool",
    ),
]


@pytest.mark.parametrize("spec, message", BAD_SPECS)
def test_the_validator_rejects_what_awx_rejects(spec, message):
    assert message in spec_errors(spec)


def test_answers_awx_would_refuse():
    spec = TEMPLATES["ECS Anywhere: onboard"]["survey_spec"]
    items = {item["variable"]: item for item in spec["spec"]}
    assert answer_errors(items["ecs_anywhere_region"], {}) == ["'ecs_anywhere_region' value missing"]
    assert answer_errors(items["onboard_drain_timeout"], {"onboard_drain_timeout": "600"})
    assert answer_errors(items["onboard_drain_timeout"], {"onboard_drain_timeout": True})
    assert answer_errors(items["aws_setup_policy_mode"], {"aws_setup_policy_mode": "admin"})
    assert answer_errors(
        items["ecs_anywhere_ssm_agent_gpg_fingerprints"],
        {"ecs_anywhere_ssm_agent_gpg_fingerprints": "1C5B395CBE5E74E2F1CA21592784DBF388D19D46"},
    )


def test_unanswered_optional_questions_leave_the_inventory_in_force():
    """No default on proxy and fingerprints: AWX then sets nothing, and the inventory's values stay."""
    spec = TEMPLATES["ECS Anywhere: onboard"]["survey_spec"]
    launched = launch_extra_vars(spec, {"ecs_anywhere_region": "eu-west-1"})
    assert launched == {
        "ecs_anywhere_region": "eu-west-1",
        "ecs_anywhere_cluster": "default",
        "aws_setup_policy_mode": "least_privilege",
        "onboard_drain_timeout": 600,
    }


@pytest.mark.parametrize("name, template", SURVEYED, ids=[s[0] for s in SURVEYED])
def test_every_survey_variable_is_read_with_a_type_it_accepts(name, template):
    options = role_options()
    site = site_variables()
    playbooks = (
        [template["playbook"]]
        if "playbook" in template
        else [TEMPLATES[node["unified_job_template"]["name"]]["playbook"] for node in template["workflow_nodes"]]
    )
    playbook_text = "".join(read(p) for p in playbooks)
    for item in template["survey_spec"]["spec"]:
        var = item["variable"]
        if var in options:
            role, option = options[var]
            assert option.get("type", "str") in ACCEPTS[item["type"]], (var, role, option.get("type"))
            if "choices" in option:
                assert set(item["choices"]) <= set(option["choices"]), (var, role)
            if item["type"] == "multiselect":
                assert option.get("elements") == "str", var
        elif var in site:
            # A site-wide value a role falls back to: its own option's type must take the answer.
            fed = [(role, o) for role, o in options.values() if var in str(o.get("default", ""))]
            assert fed, var
            for role, option in fed:
                assert option.get("type", "str") in ACCEPTS[item["type"]], (var, role)
        else:
            # A playbook variable: the template's playbook must read it.
            assert re.search(r"\b%s\b" % var, playbook_text), "%s is read by none of %s" % (var, playbooks)
        if item["type"] == "multiselect":
            # The choices offered are the roles' own pinned defaults (AWS's signing keys).
            fed = [o for _role, o in options.values() if var in str(o.get("default", ""))]
            assert all(any(choice in str(o["default"]) for o in fed) for choice in item["choices"]), var


def test_templates_and_workflow_point_at_what_exists():
    names = {c["name"] for c in CONFIG["controller_credentials"]}
    for template in CONFIG["controller_templates"]:
        assert os.path.isfile(os.path.join(REPO, template["playbook"])), template["playbook"]
        assert set(template["credentials"]) <= names
        assert template["project"] in {p["name"] for p in CONFIG["controller_projects"]}
        assert template["inventory"] in {i["name"] for i in CONFIG["controller_inventories"]}
        assert template["execution_environment"] in {e["name"] for e in CONFIG["controller_execution_environments"]}
    wanted = {"account setup", "onboard", "offboard", "upgrade", "report"}
    assert {t.split(": ", 1)[1] for t in TEMPLATES} == wanted
    # Built-in AWX credential types (awx/main/models/credential/__init__.py ManagedCredentialType names).
    assert {c["credential_type"] for c in CONFIG["controller_credentials"]} == {"Amazon Web Services", "Machine"}
    (workflow,) = CONFIG["controller_workflows"]
    nodes = {n["identifier"]: n for n in workflow["workflow_nodes"]}
    assert [n["unified_job_template"]["name"] for n in workflow["workflow_nodes"]] == [
        "ECS Anywhere: account setup",
        "ECS Anywhere: onboard",
        "ECS Anywhere: report",
    ]
    assert nodes["setup"]["related"] == {"success_nodes": [{"identifier": "onboard"}]}
    assert nodes["onboard"]["related"] == {"always_nodes": [{"identifier": "report"}]}
    assert TEMPLATES["ECS Anywhere: onboard"]["job_slice_count"] == 2
    assert TEMPLATES["ECS Anywhere: account setup"]["limit"] == "localhost"
    # The proxy URL may hold a password: a password question wherever it is asked.
    for _name, template in SURVEYED:
        for item in template["survey_spec"]["spec"]:
            if "proxy" in item["variable"]:
                assert item["type"] == "password", item["variable"]


def test_requirements_follow_galaxy_yml():
    galaxy = yaml.safe_load(read("galaxy.yml"))
    repository = galaxy["repository"] + ".git"
    for path in (("collections", "requirements.yml"), ("extensions", "awx", "requirements.yml")):
        wanted = yaml.safe_load(read(*path))["collections"]
        versions = {c["name"]: c.get("version") for c in wanted}
        for dependency, version in galaxy["dependencies"].items():
            assert versions.get(dependency) == version, (path, dependency)
        assert {"name": repository, "type": "git", "version": "main"} in wanted, path
    meta = yaml.safe_load(read("meta", "execution-environment.yml"))
    assert meta == {"version": 1, "dependencies": {"python": "requirements.txt"}}
    assert "boto3" in read("requirements.txt")


def test_execution_environment_has_ansible_core_2_17_or_later():
    ee = yaml.safe_load(read("extensions", "awx", "execution-environment.yml"))
    assert ee["version"] == 3
    spec = SpecifierSet(ee["dependencies"]["ansible_core"]["package_pip"].split("ansible-core", 1)[1])
    assert "2.17.0" in spec and "2.19.4" in spec and "2.16.14" not in spec
    assert ee["dependencies"]["galaxy"] == "requirements.yml"
    assert os.path.isfile(os.path.join(REPO, "extensions", "awx", ee["dependencies"]["galaxy"]))
