# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a role module's main() with a stand-in AnsibleAWSModule: parameters from the module's own argument_spec
defaults, STS answered locally (and recorded), IAM a Stubber-checked client that allows only the queued calls."""

from ansible_collections.ecs_anywhere.fleet.tests.unit.support import FakeModule

ACCOUNT = "123456789012"


class ModuleExited(Exception):
    def __init__(self, kwargs):
        super().__init__("exit_json")
        self.kwargs = kwargs


class StandIn(FakeModule):
    def __init__(self, params, client, check_mode, calls):
        super().__init__(params, check_mode=check_mode)
        self._client = client
        self.calls = calls

    def client(self, service):
        self.calls.append("client:" + service)
        return self._client

    def exit_json(self, **kwargs):
        raise ModuleExited(kwargs)

    def fail_json_aws_error(self, error):
        self.fail_json(msg=str(error))


def run_main(monkeypatch, module_py, client, check_mode=False, calls=None, stand_in=None, setup=None, **overrides):
    """main() of ``module_py``; returns (exit_json's kwargs, calls made outside IAM); ModuleFailed propagates.

    ``calls`` (a list) records STS and client creation, also when the module fails. ``stand_in``: the module class
    (StandIn by default; another for modules with a client per service); ``setup(module)``: anything else to set on it.
    """
    calls = [] if calls is None else calls

    def make(argument_spec, supports_check_mode):
        assert supports_check_mode
        params = {name: spec.get("default") for name, spec in argument_spec.items()}
        params.update(overrides)
        unknown = set(overrides) - set(argument_spec)
        assert not unknown, "not options of the module: %s" % unknown
        module = (stand_in or StandIn)(params, client, check_mode, calls)
        if setup:
            setup(module)
        return module

    def account_info(module):
        calls.append("sts:GetCallerIdentity")
        return ACCOUNT, "aws"

    monkeypatch.setattr(module_py, "AnsibleAWSModule", make)
    monkeypatch.setattr(module_py, "get_aws_account_info", account_info)
    try:
        module_py.main()
    except ModuleExited as exited:
        return exited.kwargs, calls
    raise AssertionError("main() neither exited nor failed")


def expect_absent(stubber, role_name, policy_arn):
    stubber.add_client_error("get_role", "NoSuchEntity", expected_params=dict(RoleName=role_name))
    stubber.add_client_error("get_policy", "NoSuchEntity", expected_params=dict(PolicyArn=policy_arn))
