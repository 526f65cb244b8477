# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SSM errors of the hybrid-activation operations, and AWS-style request validation."""

from moto.ssm.exceptions import SSMException
from moto.ssm.exceptions import ValidationException


class ActivationExpired(SSMException):
    code = "ActivationExpired"


class InvalidActivation(SSMException):
    code = "InvalidActivation"


class InvalidActivationId(SSMException):
    code = "InvalidActivationId"


class InvalidInstanceId(SSMException):
    code = "InvalidInstanceId"


class InvalidFilter(SSMException):
    code = "InvalidFilter"


class InvalidInstanceInformationFilterValue(SSMException):
    code = "InvalidInstanceInformationFilterValue"


class InvalidNextToken(SSMException):
    code = "InvalidNextToken"
    message = "The specified token isn't valid."


class AccessDeniedException(SSMException):
    code = "AccessDeniedException"


def constraint_error(member, value, constraint):
    """A ValidationException worded like AWS's request validation."""
    return ValidationException(
        "1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: %s" % (value, member, constraint)
    )


def check_range(member, value, minimum, maximum):
    if value is None:
        return
    if value < minimum:
        raise constraint_error(member, value, "Member must have value greater than or equal to %d" % minimum)
    if value > maximum:
        raise constraint_error(member, value, "Member must have value less than or equal to %d" % maximum)


def check_length(member, value, maximum):
    if value is not None and len(value) > maximum:
        raise constraint_error(member, value, "Member must have length less than or equal to %d" % maximum)
