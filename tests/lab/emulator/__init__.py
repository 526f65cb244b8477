# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lab's AWS emulator: moto server plus what ECS Anywhere needs and moto lacks.

* :mod:`emulator.ssm` -- hybrid activations, managed instances, the SSM agent's private calls;
* :mod:`emulator.ecs` -- external container instances, cluster query language filters, paging;
* :mod:`emulator.control` -- call log, fault injection, seeding and the ``/_lab/`` endpoints;
* :mod:`emulator.server` -- :class:`emulator.server.EmulatorServer`, in-process or ``python -m emulator``;
* :mod:`emulator.client` -- :class:`emulator.client.LabClient` for the controls of a running emulator.
"""
