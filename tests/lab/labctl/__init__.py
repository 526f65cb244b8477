# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The offline lab's control code (``tests/lab/lab``): hosts, site proxy, artifact mirror, AWS emulator."""
