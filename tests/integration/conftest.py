# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration-test support: the lab's AWS emulator on loopback for the whole session.

The emulator (tests/lab/emulator) is moto server -- IAM with AWS managed policies, STS, ECS, SSM --
plus hybrid activations, managed instances, external container instances and lab controls (call
log, fault injection, seeding, reset).
"""

import os

import boto3
import pytest
from emulator.server import EmulatorServer

REGION = "us-east-1"
CREDENTIALS = dict(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")


@pytest.fixture(scope="session")
def emulator():
    """The running :class:`emulator.server.EmulatorServer`: ``url`` plus the lab controls."""
    server = EmulatorServer(host="127.0.0.1", port=0)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def aws_endpoint(emulator):
    return emulator.url


@pytest.fixture(scope="session")
def aws_env(aws_endpoint):
    """Environment for any process that should talk to the emulator (and never to AWS)."""
    env = dict(os.environ)
    for key in [k for k in env if k.startswith("AWS_")]:
        del env[key]
    env.update(CREDENTIALS, AWS_ENDPOINT_URL=aws_endpoint, AWS_REGION=REGION, AWS_DEFAULT_REGION=REGION)
    return env


@pytest.fixture
def aws_client(aws_endpoint):
    def make(service, **kwargs):
        options = dict(
            region_name=REGION,
            endpoint_url=aws_endpoint,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )
        options.update(kwargs)
        return boto3.client(service, **options)

    return make
