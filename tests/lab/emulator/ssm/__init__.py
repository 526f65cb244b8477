# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""SSM hybrid activations and managed instances, in moto's shape.

moto 5.2 has no hybrid activations.  This package adds them the way moto adds any feature:
models and a backend holding the state per account and region (:mod:`.models`,
``managed_instance_backends``), errors (:mod:`.exceptions`), and a response class
(:class:`.responses.SSMResponse`, a subclass of moto's) whose snake_case methods moto's dispatcher
calls for the actions:

* public API: CreateActivation, DescribeActivations, DeleteActivation, DescribeInstanceInformation
  (managed instances), DeregisterManagedInstance, and Add/Remove/ListTags with ResourceType
  ``ManagedInstance``;
* the SSM agent's private calls, which botocore does not model: RegisterManagedInstance
  (anonymous), RequestManagedInstanceRoleToken (signed with the instance's RSA key, the instance id
  in the credential scope) and UpdateInstanceInformation (the agent's heartbeat).

Error codes follow the botocore model where it names them, and what AWS's own tools expect where
it does not: registration answers ``ActivationExpired`` for an expired activation and
``InvalidActivation`` for every other unusable one (unknown, deleted, wrong code, limit reached) --
the two codes aws/eks-hybrid's nodeadm matches on (internal/ssm/daemon.go), the former also seen
in agent logs (aws/amazon-ssm-agent#134).
"""
