# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SSM hybrid activations: CreateActivation, DescribeActivations, DeleteActivation."""

import datetime
import json
import re

import pytest
from botocore.exceptions import ClientError
from emulator.seed import SSM_TRUST_POLICY


def code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def test_create_activation_returns_id_and_code_and_defaults(ssm, role):
    before = datetime.datetime.now(datetime.timezone.utc)
    created = ssm.create_activation(IamRole=role)

    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", created["ActivationId"])
    assert re.fullmatch(r"[A-Za-z0-9+/]{20}", created["ActivationCode"])
    (described,) = ssm.describe_activations()["ActivationList"]
    assert described["ActivationId"] == created["ActivationId"]
    assert "ActivationCode" not in described  # only ever returned by CreateActivation
    assert described["IamRole"] == role
    assert described["RegistrationLimit"] == 1
    assert described["RegistrationsCount"] == 0
    assert described["Expired"] is False
    lifetime = described["ExpirationDate"] - described["CreatedDate"]
    assert datetime.timedelta(hours=23, minutes=59) < lifetime <= datetime.timedelta(hours=24)
    assert described["CreatedDate"] >= before - datetime.timedelta(seconds=1)


def test_create_activation_keeps_what_it_was_given(ssm, role):
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(days=29)
    created = ssm.create_activation(
        IamRole=role,
        RegistrationLimit=1000,
        ExpirationDate=expires,
        DefaultInstanceName="edge",
        Description="rack 4",
        Tags=[{"Key": "site", "Value": "dc2"}],
    )
    (described,) = ssm.describe_activations()["ActivationList"]
    assert described["ActivationId"] == created["ActivationId"]
    assert described["RegistrationLimit"] == 1000
    assert described["DefaultInstanceName"] == "edge"
    assert described["Description"] == "rack 4"
    assert described["Tags"] == [{"Key": "site", "Value": "dc2"}]
    assert abs((described["ExpirationDate"] - expires).total_seconds()) < 1


def test_create_activation_accepts_a_path_qualified_role(ssm, iam):
    iam.create_role(RoleName="Hybrid", Path="/service-role/", AssumeRolePolicyDocument=SSM_TRUST_POLICY)
    assert ssm.create_activation(IamRole="service-role/Hybrid")["ActivationId"]
    with pytest.raises(ClientError) as excinfo:
        ssm.create_activation(IamRole="other-path/Hybrid")
    assert code(excinfo) == "ValidationException"


def test_create_activation_rejects_a_missing_role(ssm):
    with pytest.raises(ClientError) as excinfo:
        ssm.create_activation(IamRole="NoSuchRole")
    assert code(excinfo) == "ValidationException"
    assert "Not existing role: arn:aws:iam::123456789012:role/NoSuchRole" in str(excinfo.value)


@pytest.mark.parametrize(
    "statement",
    [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"},
        {"Effect": "Allow", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:TagSession"},
        {"Effect": "Deny", "Principal": {"Service": "ssm.amazonaws.com"}, "Action": "sts:AssumeRole"},
    ],
    ids=["other-service", "other-action", "deny"],
)
def test_create_activation_rejects_a_role_that_does_not_trust_ssm(ssm, iam, statement):
    iam.create_role(RoleName="Untrusting", AssumeRolePolicyDocument=json.dumps({"Statement": [statement]}))
    with pytest.raises(ClientError) as excinfo:
        ssm.create_activation(IamRole="Untrusting")
    assert code(excinfo) == "ValidationException"
    assert "ssm.amazonaws.com" in str(excinfo.value)


def test_create_activation_accepts_a_trust_with_confused_deputy_conditions(ssm, iam):
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": ["ecs-tasks.amazonaws.com", "ssm.amazonaws.com"]},
                "Action": ["sts:AssumeRole"],
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": "123456789012"},
                    "ArnEquals": {"aws:SourceArn": "arn:aws:ssm:us-east-1:123456789012:*"},
                },
            }
        ],
    }
    iam.create_role(RoleName="Guarded", AssumeRolePolicyDocument=json.dumps(trust))
    assert ssm.create_activation(IamRole="Guarded")["ActivationId"]


@pytest.mark.parametrize("limit", [0, 1001])
def test_create_activation_registration_limit_bounds(ssm, role, limit):
    with pytest.raises(ClientError) as excinfo:
        ssm.create_activation(IamRole=role, RegistrationLimit=limit)
    assert code(excinfo) == "ValidationException"
    assert "registrationLimit" in str(excinfo.value)


@pytest.mark.parametrize("offset", [datetime.timedelta(days=30, hours=1), -datetime.timedelta(minutes=5)])
def test_create_activation_expiration_bounds(ssm, role, offset):
    with pytest.raises(ClientError) as excinfo:
        ssm.create_activation(IamRole=role, ExpirationDate=datetime.datetime.now(datetime.timezone.utc) + offset)
    assert code(excinfo) == "ValidationException"
    assert ssm.describe_activations()["ActivationList"] == []


def test_create_activation_length_limits(ssm, role):
    with pytest.raises(ClientError) as excinfo:
        ssm.create_activation(IamRole=role, Description="x" * 257)
    assert code(excinfo) == "ValidationException"
    with pytest.raises(ClientError) as excinfo:
        ssm.create_activation(IamRole="r" * 65)
    assert code(excinfo) == "ValidationException"


def test_describe_activations_filters(ssm, role):
    first = ssm.create_activation(IamRole=role, DefaultInstanceName="alpha")["ActivationId"]
    second = ssm.create_activation(IamRole=role, DefaultInstanceName="beta")["ActivationId"]

    def ids(filters):
        return {a["ActivationId"] for a in ssm.describe_activations(Filters=filters)["ActivationList"]}

    assert ids([{"FilterKey": "ActivationIds", "FilterValues": [second]}]) == {second}
    assert ids([{"FilterKey": "DefaultInstanceName", "FilterValues": ["alpha"]}]) == {first}
    assert ids([{"FilterKey": "IamRole", "FilterValues": [role]}]) == {first, second}
    assert ids([{"FilterKey": "IamRole", "FilterValues": ["SomeoneElse"]}]) == set()
    both = [
        {"FilterKey": "IamRole", "FilterValues": [role]},
        {"FilterKey": "DefaultInstanceName", "FilterValues": ["beta"]},
    ]
    assert ids(both) == {second}

    with pytest.raises(ClientError) as excinfo:
        ssm.describe_activations(Filters=[{"FilterKey": "Tags", "FilterValues": ["x"]}])
    assert code(excinfo) == "InvalidFilter"


def test_describe_activations_pages(ssm, role):
    created = [ssm.create_activation(IamRole=role)["ActivationId"] for _number in range(7)]
    seen, pages, token = [], 0, None
    while True:
        kwargs = {"MaxResults": 3}
        if token:
            kwargs["NextToken"] = token
        page = ssm.describe_activations(**kwargs)
        pages += 1
        assert len(page["ActivationList"]) <= 3
        seen += [a["ActivationId"] for a in page["ActivationList"]]
        token = page.get("NextToken")
        if not token:
            break
    assert pages == 3
    assert seen == created
    paginated = ssm.get_paginator("describe_activations").paginate(PaginationConfig={"PageSize": 2})
    assert [a["ActivationId"] for page in paginated for a in page["ActivationList"]] == created


@pytest.mark.parametrize("max_results", [0, 51])
def test_describe_activations_max_results_bounds(ssm, role, max_results):
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_activations(MaxResults=max_results)
    assert code(excinfo) == "ValidationException"


def test_describe_activations_rejects_a_bad_token(ssm, role):
    ssm.create_activation(IamRole=role)
    with pytest.raises(ClientError) as excinfo:
        ssm.describe_activations(NextToken="not-a-token")
    assert code(excinfo) == "InvalidNextToken"


def test_activation_expires_with_the_lab_clock(lab, ssm, role):
    ssm.create_activation(
        IamRole=role, ExpirationDate=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=2)
    )
    assert ssm.describe_activations()["ActivationList"][0]["Expired"] is False
    lab.advance_clock(2 * 3600 + 1)
    assert ssm.describe_activations()["ActivationList"][0]["Expired"] is True


def test_delete_activation(ssm, role):
    kept = ssm.create_activation(IamRole=role)["ActivationId"]
    gone = ssm.create_activation(IamRole=role)["ActivationId"]
    ssm.delete_activation(ActivationId=gone)
    assert [a["ActivationId"] for a in ssm.describe_activations()["ActivationList"]] == [kept]

    with pytest.raises(ClientError) as excinfo:
        ssm.delete_activation(ActivationId=gone)
    assert code(excinfo) == "InvalidActivation"
    with pytest.raises(ClientError) as excinfo:
        ssm.delete_activation(ActivationId="not-an-activation-id")
    assert code(excinfo) == "InvalidActivationId"
