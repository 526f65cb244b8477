# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LAB STAND-IN for AWS's ``amazon-ssm-agent`` (installed as ``/usr/bin/amazon-ssm-agent`` on lab hosts only).

It is not AWS's agent. It does, where the collection's roles can observe it, what the real agent does:

* ``amazon-ssm-agent -register -code C -id I -region R [-y]`` registers the host with the (emulated)
  SSM ``RegisterManagedInstance`` call, unsigned like the real agent's anonymous client, and writes
  ``/var/lib/amazon/ssm/registration`` (0600) and ``/var/lib/amazon/ssm/Vault/Store/RegistrationKey``.
  Already registered: it asks ``[Yes/No]`` on stdin unless ``-y``. ``-register -clear`` (without code,
  id and region) empties the registration and the hardware fingerprint, not the ``registration`` file
  (core/agent_parser.go). Failures exit 1 with the real agent's messages.
* Without flags (``amazon-ssm-agent.service``) it waits for a registration, exchanges the instance key
  for role credentials (``RequestManagedInstanceRoleToken``), shares them in ``$HOME/.aws/credentials``
  profile ``default`` and rotates them, and heartbeats with ``UpdateInstanceInformation``.

Endpoint: ``Ssm.Endpoint`` in ``/etc/amazon/ssm/amazon-ssm-agent.json`` (the real agent's setting),
else ``AWS_ENDPOINT_URL_SSM`` / ``AWS_ENDPOINT_URL``, else ``https://ssm.<region>.amazonaws.com``.
Proxy: ``https_proxy`` / ``http_proxy`` / ``no_proxy`` as Go reads them.
"""

import base64
import configparser
import datetime
import fcntl
import hashlib
import io
import json
import os
import pwd
import secrets
import socket
import struct
import sys
import time
import uuid

import awsreq  # pylint: disable=import-error

VERSION = "3.3.1957.0"
#: True only in a lab build that stands in for a bad release (labctl.packages, ``broken="service"``): the service
#: exits at start, before any heartbeat, as the real agent does when its core fails to start (agent/agent.go).
BROKEN_RELEASE = False
ROOT = os.environ.get("LAB_STANDIN_ROOT", "")  # lets the lab exercise the program outside a host
SSM_DIR = ROOT + "/var/lib/amazon/ssm"
REGISTRATION_FILE = SSM_DIR + "/registration"
VAULT = SSM_DIR + "/Vault/Store"
REGISTRATION_KEY = VAULT + "/RegistrationKey"
FINGERPRINT_FILE = VAULT + "/InstanceFingerprint"
CONFIG_FILE = ROOT + "/etc/amazon/ssm/amazon-ssm-agent.json"
LOG = awsreq.Logger(ROOT + "/var/log/amazon/ssm/amazon-ssm-agent.log")
ERRORS = ROOT + "/var/log/amazon/ssm/errors.log"


def log_error(message, *args):
    LOG.error(message, *args)
    awsreq.Logger(ERRORS, echo=False).error(message, *args)


def load_json(path, default=None):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return default


def app_config():
    config = load_json(CONFIG_FILE, {}) or {}
    return config if isinstance(config, dict) else {}


def ssm_endpoint(region):
    configured = (app_config().get("Ssm") or {}).get("Endpoint")
    configured = configured or os.environ.get("AWS_ENDPOINT_URL_SSM") or os.environ.get("AWS_ENDPOINT_URL")
    return awsreq.endpoint_url(configured or "ssm.%s.amazonaws.com" % region)


def registered():
    """(instance id, region, private key) of the current registration, or Nones."""
    data = load_json(REGISTRATION_KEY, {}) or {}
    return data.get("instanceID") or None, data.get("region") or None, data.get("privateKey") or None


def fingerprint():
    data = load_json(FINGERPRINT_FILE, {}) or {}
    if data.get("fingerprint"):
        return data["fingerprint"]
    value = str(uuid.uuid4())
    hardware = {"hostname": socket.gethostname(), "machine-id": _read(ROOT + "/etc/machine-id").strip()}
    doc = {"fingerprint": value, "hardwareHash": hardware, "similarityThreshold": 40}
    awsreq.write_private(FINGERPRINT_FILE, json.dumps(doc))
    return value


def _read(path):
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError:
        return ""


def update_server_info(instance_id, region, private_key, key_type):
    doc = {
        "instanceID": instance_id,
        "region": region,
        "privateKey": private_key,
        "privateKeyType": key_type,
        "privateKeyCreatedDate": (
            datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if private_key else ""
        ),
        "availabilityZone": "",
        "instanceType": "",
    }
    awsreq.write_private(REGISTRATION_KEY, json.dumps(doc))


def generate_key_pair():
    """A lab key pair: the stand-in signs with an HMAC secret where the real agent uses RSA 2048.

    The real agent keeps the base64 private key in the vault's RegistrationKey (agent/managedInstances/
    registration/instance_info.go, ``privateKey``); the stand-in's starts with a marker so a test can
    tell it in any output it leaks into.
    """
    private_key = "LABPRIVATEKEY" + base64.b64encode(secrets.token_bytes(32)).decode("ascii")
    public_key = base64.b64encode(hashlib.sha256(private_key.encode("ascii")).digest()).decode("ascii")
    return public_key, private_key, "Rsa"


def ask_for_confirmation():
    sys.stdout.write(
        "\nInstance already registered. "
        "Would you like to override existing with new registration information? [Yes/No]: "
    )
    sys.stdout.flush()
    response = sys.stdin.readline().strip()
    if not response:
        raise ValueError("unexpected newline")
    if response[0].lower() == "y":
        return True
    if response[0].lower() == "n":
        return False
    raise ValueError("Invalid response received.")


def register(code, activation_id, region):
    public_key, private_key, key_type = generate_key_pair()
    try:
        update_server_info("", "", private_key, key_type)
    except OSError as exc:
        raise RuntimeError(
            "Unable to save registration information. %s\nTry running as sudo/administrator." % exc
        ) from exc
    payload = {
        "ActivationCode": code,
        "ActivationId": activation_id,
        "PublicKey": public_key,
        "PublicKeyType": key_type,
        "Fingerprint": fingerprint(),
    }
    try:
        answer = awsreq.json_call(ssm_endpoint(region), "AmazonSSM.RegisterManagedInstance", payload, region, "ssm")
    except awsreq.AWSError as exc:
        status = "\n\tstatus code: %d, request id: %s" % (exc.status, uuid.uuid4()) if exc.status else ""
        raise RuntimeError(
            "error registering the instance with AWS SSM. %s: %s%s" % (exc.code, exc.message, status)
        ) from exc
    instance_id = answer.get("InstanceId", "")
    update_server_info(instance_id, region, private_key, key_type)
    awsreq.write_private(REGISTRATION_FILE, json.dumps({"ManagedInstanceID": instance_id, "Region": region}))
    return instance_id


def clear_registration():
    try:
        update_server_info("", "", "", "")
    except OSError as exc:
        log_error("error clearing the instance registration information. %s\nTry running as sudo/administrator.", exc)
        return 1
    LOG.info("Registration information has been removed from the instance.")
    return 0


def clear_stored_hardware_info():
    """What agent/managedInstances/fingerprint/fingerprint.go ClearStoredHardwareInfo does: the vault's
    InstanceFingerprint becomes an empty ``hwInfo`` (not removed), so the next registration generates a new
    fingerprint -- SSM then sees a new machine, which is what re-registering a re-imaged host needs."""
    try:
        awsreq.write_private(
            FINGERPRINT_FILE, json.dumps({"fingerprint": "", "hardwareHash": None, "similarityThreshold": 0})
        )
    except OSError as exc:
        log_error("Failed to store empty hardware info: %s", exc)


def process_registration(opts):
    # core/agent_parser.go processRegistration: without an activation (code and id) or without a region, -clear
    # clears (hardware info, then the vault's RegistrationKey; the registration file is left as it is) and
    # anything else prints the usage; with all three, -clear is ignored and the host registers.
    if not (opts.get("code") and opts.get("id") and opts.get("region")):
        if opts.get("clear"):
            clear_stored_hardware_info()
            return clear_registration()
        usage()
        return 1
    if not opts.get("y") and registered()[0]:
        try:
            if not ask_for_confirmation():
                LOG.info("Registration canceled by user")
                return 1
        except ValueError as exc:
            log_error("Registration failed due to %s", exc)
            return 1
    try:
        instance_id = register(opts["code"], opts["id"], opts["region"])
    except RuntimeError as exc:
        log_error("Registration failed due to %s", exc)
        return 1
    LOG.info("Successfully registered the instance with AWS SSM using Managed instance-id: %s", instance_id)
    return 0


def usage():
    sys.stderr.write(
        "\n\nCommand-line Usage:\n"
        "\t-register\tregister managed instance\n"
        "\t\t-id     \tSSM activation ID  \t(REQUIRED)\n"
        "\t\t-code   \tSSM activation code\t(REQUIRED)\n"
        "\t\t-region \tSSM region         \t(REQUIRED)\n"
        "\n\t\t-clear\tClears the previously saved SSM registration\n"
        "\n\t-y\tAnswer yes for all questions\n"
        "\n(LAB STAND-IN for amazon-ssm-agent; not AWS's agent)\n"
    )


def parse_flags(argv):
    """Go ``flag`` style: ``-name``, ``--name``, ``-name value`` or ``-name=value``."""
    booleans = {"register", "clear", "y", "version", "fingerprint", "disableSimilarityCheck"}
    values = {"code", "id", "region", "similarityThreshold"}
    opts = {}
    args = list(argv)
    while args:
        arg = args.pop(0)
        if not arg.startswith("-") or arg in ("-", "--"):
            raise ValueError("unexpected argument %s" % arg)
        name, _sep, value = arg.lstrip("-").partition("=")
        if name in booleans:
            opts[name] = value.lower() not in ("false", "0") if _sep else True
        elif name in values:
            if not _sep:
                if not args:
                    raise ValueError("flag needs an argument: -%s" % name)
                value = args.pop(0)
            opts[name] = value
        else:
            raise ValueError("flag provided but not defined: -%s" % name)
    return opts


# --- the service -----------------------------------------------------------------------------------------------


def credentials_path():
    try:
        home = pwd.getpwuid(os.getuid()).pw_dir
    except KeyError:
        home = os.environ.get("HOME", "/root")
    return ROOT + home + "/.aws/credentials"


def share_credentials(creds, profile):
    """Update one profile of the shared credentials file, keeping the others (as the real agent does)."""
    path = credentials_path()
    parser = configparser.RawConfigParser()
    parser.read(path, encoding="utf-8")
    if not parser.has_section(profile):
        parser.add_section(profile)
    parser.set(profile, "aws_access_key_id", creds["AccessKeyId"])
    parser.set(profile, "aws_secret_access_key", creds["SecretAccessKey"])
    parser.set(profile, "aws_session_token", creds["SessionToken"])
    out = io.StringIO()
    parser.write(out)
    os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
    awsreq.write_private(path, out.getvalue())


def _timestamp(value):
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return time.time() + 3600


def os_release():
    info = {}
    for line in _read(ROOT + "/etc/os-release").splitlines():
        key, sep, value = line.partition("=")
        if sep:
            info[key] = value.strip().strip('"')
    return info


def ip_address():
    """The host's IPv4 address as the real agent reports it: the first network interface's, skipping
    loopback and container bridges (docker0, br-*, veth*)."""
    skip = ("lo", "docker", "br-", "veth", "virbr", "cni", "flannel")
    try:
        names = sorted(os.listdir("/sys/class/net"))
    except OSError:
        names = []
    for name in names:
        if name.startswith(skip):
            continue
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            try:
                packed = fcntl.ioctl(sock.fileno(), 0x8915, struct.pack("256s", name.encode()[:15]))  # SIOCGIFADDR
            except OSError:
                continue
        return socket.inet_ntoa(packed[20:24])
    return "127.0.0.1"


def heartbeat(endpoint, region, instance_id, creds):
    release = os_release()
    payload = {
        "InstanceId": instance_id,
        "AgentName": "amazon-ssm-agent",
        "AgentVersion": VERSION,
        "AgentStatus": "Active",
        "PlatformName": release.get("NAME", "Linux"),
        "PlatformVersion": release.get("VERSION_ID", ""),
        "PlatformType": "Linux",
        "IPAddress": ip_address(),
        "ComputerName": socket.gethostname(),
    }
    awsreq.json_call(endpoint, "AmazonSSM.UpdateInstanceInformation", payload, region, "ssm", creds)


def run_service():
    LOG.info("amazon-ssm-agent - v%s (LAB STAND-IN, not AWS's agent)", VERSION)
    if BROKEN_RELEASE:
        log_error("Failed to start agent core (LAB STAND-IN of a bad release)")
        sys.exit(1)
    creds, refresh_at, next_ping, waiting_logged = None, 0.0, 0.0, False
    while True:
        instance_id, region, private_key = registered()
        config = app_config()
        region = (config.get("Agent") or {}).get("Region") or region
        if not instance_id or not private_key:
            if not waiting_logged:
                log_error(
                    "Agent failed to assume any identity: no registration found in %s; retrying", REGISTRATION_KEY
                )
                waiting_logged = True
            creds = None
            time.sleep(5)
            continue
        if waiting_logged:
            LOG.info("Identity: managed instance %s in %s", instance_id, region)
            waiting_logged = False
        endpoint = ssm_endpoint(region)
        now = time.time()
        if creds is None or now >= refresh_at:
            try:
                answer = awsreq.json_call(
                    endpoint,
                    "AmazonSSM.RequestManagedInstanceRoleToken",
                    {"Fingerprint": fingerprint()},
                    region,
                    "ssm",
                    {"access_key": instance_id, "secret_key": private_key},
                )
            except awsreq.AWSError as exc:
                log_error("Credential refresher failed to retrieve credentials: %s; retrying in 30s", exc)
                time.sleep(30)
                continue
            creds = {
                "access_key": answer["AccessKeyId"],
                "secret_key": answer["SecretAccessKey"],
                "token": answer.get("SessionToken"),
            }
            expires = _timestamp(answer.get("TokenExpirationDate", now + 3600))
            refresh_at = now + max(30.0, (expires - now) / 2)
            profile_settings = config.get("Profile") or {}
            if profile_settings.get("ShareCreds", True):
                share_credentials(answer, profile_settings.get("ShareProfile") or "default")
            LOG.info("Successfully refreshed credentials for %s; next rotation in %ds", instance_id, refresh_at - now)
        if now >= next_ping:
            try:
                heartbeat(endpoint, region, instance_id, creds)
                LOG.info("Health ping (UpdateInstanceInformation) sent for %s", instance_id)
            except awsreq.AWSError as exc:
                log_error("Health ping failed: %s", exc)
            minutes = float((config.get("Ssm") or {}).get("HealthFrequencyMinutes") or 5)
            next_ping = now + max(5.0, minutes * 60)
        time.sleep(max(1.0, min(next_ping, refresh_at) - time.time()))


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        opts = parse_flags(argv)
    except ValueError as exc:
        sys.stderr.write("%s\n" % exc)
        usage()
        return 2
    if opts.get("version") and len(opts) == 1:
        sys.stdout.write("SSM Agent version: %s\n" % VERSION)
        return 0
    if opts:
        if opts.get("register"):
            return process_registration(opts)
        usage()
        return 1
    try:
        run_service()
    except KeyboardInterrupt:
        return 0
    return 0


def entry():
    """Entry point of the packaged program (a zipapp)."""
    sys.exit(main())


if __name__ == "__main__":
    entry()
