# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECS errors the container instance operations need beyond moto's."""

from moto.ecs.exceptions import ECSException


class ResourceNotFoundException(ECSException):
    code = "ResourceNotFoundException"


class TargetNotFoundException(ECSException):
    code = "TargetNotFoundException"


class AttributeLimitExceededException(ECSException):
    code = "AttributeLimitExceededException"
