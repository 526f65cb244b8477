# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the emulator's own tests: a clean emulator per test, a trusted role, fake agents."""

import boto3
import pytest
from botocore.config import Config
from emulator.agent import FakeAgent
from emulator.seed import SSM_TRUST_POLICY

ROLE = "ECSAnywhereRole"
#: No retries and no client-side validation: the emulator's own answers are under test.
RAW = Config(retries={"total_max_attempts": 1}, parameter_validation=False)


@pytest.fixture
def lab(emulator):
    """The session's emulator, reset before and after the test (state, call log, faults, clock)."""
    emulator.reset()
    yield emulator
    emulator.reset()


@pytest.fixture(scope="module")
def module_lab(emulator):
    """Like ``lab`` for a whole module of tests that only read what a module fixture set up."""
    emulator.reset()
    yield emulator
    emulator.reset()


@pytest.fixture(scope="module")
def module_clients(module_lab):
    """boto3 client factory for module-scoped fixtures (no retries, no client-side validation)."""

    def make(service, region="us-east-1"):
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=module_lab.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=RAW,
        )

    return make


@pytest.fixture
def ssm(lab, aws_client):
    return aws_client("ssm", config=RAW)


@pytest.fixture
def ecs(lab, aws_client):
    return aws_client("ecs", config=RAW)


@pytest.fixture
def iam(lab, aws_client):
    return aws_client("iam")


@pytest.fixture
def role(iam):
    """An instance role that trusts SSM, as the collection creates it."""
    iam.create_role(RoleName=ROLE, AssumeRolePolicyDocument=SSM_TRUST_POLICY)
    return ROLE


@pytest.fixture
def activation(ssm, role):
    """A 5-registration activation with tags; its ``ActivationId`` and ``ActivationCode``."""
    return ssm.create_activation(
        IamRole=role,
        RegistrationLimit=5,
        DefaultInstanceName="onprem",
        Description="lab activation",
        Tags=[{"Key": "team", "Value": "platform"}, {"Key": "site", "Value": "dc1"}],
    )


@pytest.fixture
def new_agent(lab):
    """Factory of fake hosts (SSM agent + ECS agent) talking to the emulator."""

    def make(region="us-east-1", ssm_host=None):
        return FakeAgent(lab.url, region=region, ssm_host=ssm_host)

    return make


@pytest.fixture
def host(new_agent, activation):
    """A host registered with the activation, holding role credentials, that has pinged once."""
    agent = new_agent()
    agent.register(activation["ActivationId"], activation["ActivationCode"])
    agent.refresh_credentials()
    agent.ping()
    return agent
