# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the unit tests (helpers live in support.py)."""

import pytest

from ansible_collections.ecs_anywhere.fleet.tests.unit.support import stubbed_client


@pytest.fixture
def stubbed():
    """stubbed("ecs") -> (client, stubber); asserts at teardown that every expected call was made.

    The Stubber validates each expected request and canned response against the service model.
    """
    stubbers = []

    def make(service, region="eu-west-1"):
        client, stubber = stubbed_client(service, region)
        stubbers.append(stubber)
        return client, stubber

    yield make
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
        stubber.deactivate()
