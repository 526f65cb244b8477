# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""AWX's own survey rules, restated for the tests (no AWX server here), and the controller vars resolved.

Sources (ansible/awx at e21dd0a0933fd544d1fe2513c54fe41203775eb5):
- spec_errors(): awx/api/views/__init__.py JobTemplateSurveySpec._validate_spec_data (the survey_spec POST, also
  used for workflow job templates); the question types: awx/main/constants.py SURVEY_TYPE_MAPPING.
- answer_errors(): awx/main/models/mixins.py SurveyJobTemplateMixin._survey_element_validation (launch answers,
  and defaults: _update_unified_job_kwargs only applies a default that passes it, silently dropping the others).
"""

import os
import re

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
CONTROLLER_VARS = os.path.join(REPO, "extensions", "awx", "controller", "vars", "ecs_anywhere.yml")

SURVEY_TYPE_MAPPING = {
    "text": str,
    "textarea": str,
    "password": str,
    "multiplechoice": str,
    "multiselect": str,
    "integer": int,
    "float": (float, int),
}


def _choices(item):
    choices = item["choices"]
    if isinstance(choices, str):
        return [c for c in choices.splitlines() if c.strip() != ""]
    return list(choices)


def spec_errors(spec):
    """The first error AWX's survey_spec endpoint returns for this spec, or None."""
    for field, expect in (("name", str), ("description", str), ("spec", list)):
        if field not in spec:
            return "Field '%s' is missing from survey spec." % field
        if not isinstance(spec[field], expect):
            return "Expected %s for field '%s'" % (expect.__name__, field)
    if not spec["spec"]:
        return "'spec' doesn't contain any items."
    seen = set()
    for idx, item in enumerate(spec["spec"]):
        if not isinstance(item, dict):
            return "Survey question %s is not a json object." % idx
        for field in ("type", "question_name", "variable", "required"):
            if field not in item:
                return "'%s' missing from survey question %s" % (field, idx)
            expect = bool if field == "required" else str
            if not isinstance(item[field], expect):
                return "'%s' in survey question %s expected to be %s." % (field, idx, expect.__name__)
        if item["variable"] in seen:
            return "'variable' '%s' duplicated in survey question %s." % (item["variable"], idx)
        seen.add(item["variable"])
        qtype = item["type"]
        if qtype not in SURVEY_TYPE_MAPPING:
            return "'%s' in survey question %s is not one of the allowed question types." % (qtype, idx)
        if "default" in item and item["default"] != "":
            if not isinstance(item["default"], SURVEY_TYPE_MAPPING[qtype]):
                return "Default value %r in survey question %s expected to be %s." % (item["default"], idx, qtype)
        for key in ("min", "max"):
            if key in item and item[key] is not None and not isinstance(item[key], int):
                return "The %s limit in survey question %s expected to be integer." % (key, idx)
        if qtype in ("multiselect", "multiplechoice"):
            if "choices" not in item:
                return "Survey question %s of type %s must specify choices." % (idx, qtype)
            if "default" in item:
                default = item["default"]
                defaults = [d for d in default.splitlines() if d.strip() != ""] if isinstance(default, str) else default
                if qtype == "multiplechoice" and len(defaults) > 1:
                    return "Multiple Choice (Single Select) can only have one default value."
                if any(d not in _choices(item) for d in defaults):
                    return "Default choice must be answered from the choices listed."
        if isinstance(item.get("default"), str) and item["default"].startswith("$encrypted$"):
            return "$encrypted$ is a reserved keyword, may not be used for new default in position %s." % idx
    return None


def answer_errors(item, data):
    """AWX's errors for one question given the launch's extra vars `data` (a dict)."""
    var = item["variable"]
    errors = []
    if var not in data:
        if item["required"]:
            errors.append("'%s' value missing" % var)
        return errors
    value = data[var]
    qtype = item["type"]
    limits = [item.get(k) if item.get(k) not in ("", None) else None for k in ("min", "max")]
    if qtype in ("text", "textarea", "password"):
        if not isinstance(value, str):
            return ["Value %s for '%s' expected to be a string." % (value, var)]
        if limits[0] is not None and len(value) < int(limits[0]):
            errors.append("'%s' value is too small" % var)
        if limits[1] is not None and len(value) > int(limits[1]):
            errors.append("'%s' value is too large" % var)
    elif qtype in ("integer", "float"):
        # AWX compares type() exactly: a boolean is no integer.
        if isinstance(value, bool) or not isinstance(value, int if qtype == "integer" else (float, int)):
            return ["Value %s for '%s' expected to be a number." % (value, var)]
        if limits[0] is not None and value < limits[0]:
            errors.append("'%s' value %s is too small" % (var, value))
        if limits[1] is not None and value > limits[1]:
            errors.append("'%s' value %s is too large" % (var, value))
    elif qtype == "multiselect":
        if not isinstance(value, list):
            return ["'%s' value is expected to be a list." % var]
        errors.extend("Value %s for '%s' not a choice" % (v, var) for v in value if v not in _choices(item))
    elif qtype == "multiplechoice":
        if value not in _choices(item):
            errors.append("Value %s for '%s' expected to be one of %s." % (value, var, _choices(item)))
    return errors


def launch_extra_vars(spec, answers):
    """The extra vars of a launch as AWX builds them: survey defaults that pass validation, then the answers."""
    extra_vars = {}
    for item in spec["spec"]:
        if item.get("default") is not None and not answer_errors(item, {item["variable"]: item["default"]}):
            extra_vars[item["variable"]] = item["default"]
    extra_vars.update(answers)
    return extra_vars


_REF = re.compile(r"^\{\{ ([a-z_]+) \}\}$")


def resolve(value, variables):
    """Resolve the file's whole-value references ("{{ name }}") as Ansible does (native types)."""
    if isinstance(value, str):
        match = _REF.match(value)
        if match and match.group(1) in variables:
            return resolve(variables[match.group(1)], variables)
        return value
    if isinstance(value, list):
        return [resolve(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: resolve(v, variables) for k, v in value.items()}
    return value


def controller_vars():
    with open(CONTROLLER_VARS, encoding="utf-8") as f:
        raw = yaml.safe_load(f)
    return {key: resolve(value, raw) for key, value in raw.items()}
