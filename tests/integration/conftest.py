# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration-test support: an AWS emulator (moto server) on loopback for the whole session."""

import os

import boto3
import pytest

os.environ.setdefault("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")

from moto.server import ThreadedMotoServer  # noqa: E402  pylint: disable=wrong-import-position

REGION = "us-east-1"
CREDENTIALS = dict(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")


@pytest.fixture(scope="session")
def aws_endpoint():
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield "http://%s:%s" % (host, port)
    server.stop()


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
    def make(service):
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=aws_endpoint,
            aws_access_key_id=CREDENTIALS["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
        )

    return make
