# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ECS Anywhere (external) container instances for moto.

moto 5.2 registers container instances only from an EC2 instance identity document, ignores
ListContainerInstances' ``filter`` and does not page.  This package adds, in moto's shape:

* :class:`.models.ExternalContainerInstance` -- registered by an agent with ``ECS_EXTERNAL=true``: the
  request has the ``ecs.capability.external`` attribute and no identity document, and the
  instance's ``ec2InstanceId`` is the SSM managed instance (``mi-``) whose role session signed it;
* :class:`.models.ContainerInstanceBackend` -- container instance operations over moto's store
  (``ecs_backends[...].container_instances``), for EC2 and external instances alike: the cluster
  query language filter and paging, ``include=TAGS``, container-instance tags, the 10-instance limit
  of UpdateContainerInstancesState, and deregistration to ``INACTIVE`` (still describable, no longer
  listed) as in ECS; the filter language is :mod:`.cql`;
* :class:`.responses.ECSResponse` -- moto's responses with those operations swapped in.
"""
