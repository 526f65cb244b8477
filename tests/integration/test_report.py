# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/report.yml against the emulator, and its HTML in a real headless Chromium.

A fleet over two clusters shows every kind of problem; hosts are the emulator's fake agents (the wire calls of
the real SSM and ECS agents).  What the page, the JSON and the console say is checked against the emulator's state
read with boto3 -- never against the report code's own variables.  Debian's chromium and chromium-driver are
installed (once) by tests/utils/install_browser.sh; nothing here downloads a browser.
"""

import json
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import zlib

import pytest
from emulator.agent import FakeAgent
from emulator.seed import SSM_TRUST_POLICY

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOK = os.path.join(ROOT, "playbooks", "report.yml")
OUTPUT = os.path.join(ROOT, "tests", "output", "report")
ANSIBLE_PLAYBOOK = os.path.join(os.path.dirname(sys.executable), "ansible-playbook")
CLUSTERS = ("rp-east", "rp-west")
#: A region of its own: other tests in the same pytest worker share the emulator (in us-east-1 and eu-west-1), and
#: the report reads every managed instance of its region.
REGION = "ca-central-1"
SECRET = "rp-Secret-Key-0f9e8d7c6b5a"  # the controller's AWS secret key: must appear nowhere
#: What a host reports as its name reaches the page: it must show as text, never as markup.
HOSTILE_NAME = "east-ok<img src=x onerror=\"document.title='pwned'\">&amp;"
LATEST_SSM, OLD_SSM = "3.3.1957.0", "3.2.582.0"
LATEST_ECS, OLD_ECS = "1.89.0", "1.80.0"
PROBLEM_KINDS = {"ping_lost", "agent_disconnected", "ssm_only", "ecs_only", "stale"}
WARNING_KINDS = {"ssm_agent_outdated", "ecs_agent_outdated", "draining", "duplicate_name"}


# ---------------------------------------------------------------- the fleet


@pytest.fixture(scope="module")
def fleet(emulator):
    """Ten hosts over two clusters plus one SSM-only host; returns {label: mi- id}."""
    import boto3

    def client(service):
        return boto3.client(
            service,
            region_name=REGION,
            endpoint_url=emulator.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    iam, ssm, ecs = client("iam"), client("ssm"), client("ecs")
    # IAM is global: a role name of its own, so other tests in this worker may create ECSAnywhereRole.
    iam.create_role(RoleName="ReportFleetRole", AssumeRolePolicyDocument=SSM_TRUST_POLICY)
    activation = ssm.create_activation(IamRole="ReportFleetRole", RegistrationLimit=20, DefaultInstanceName="rp")
    for cluster in CLUSTERS:
        ecs.create_cluster(clusterName=cluster)
    ids, arns = {}, {}

    def host(label, cluster=None, name=None, ssm_version=LATEST_SSM, ecs_version=LATEST_ECS):
        agent = FakeAgent(emulator.url, region=REGION)
        agent.register(activation["ActivationId"], activation["ActivationCode"])
        agent.refresh_credentials()
        agent.ping(ComputerName=name or label, AgentVersion=ssm_version, IPAddress="192.0.2.%d" % (len(ids) + 10))
        if cluster:
            version = {"agentVersion": ecs_version, "agentHash": "lab", "dockerVersion": "DockerVersion: 25.0.5"}
            arns[label] = agent.register_container_instance(cluster, version_info=version)["containerInstanceArn"]
        ids[label] = agent.instance_id
        return agent

    east, west = CLUSTERS
    host("east-ok", east, name=HOSTILE_NAME)
    host("east-lost", east)
    host("east-disconnected", east)
    host("east-draining", east)
    host("east-old-ecs", east, ecs_version=OLD_ECS)
    host("west-ok", west)
    host("west-old-ssm", west, ssm_version=OLD_SSM)
    host("west-reimaged-old", name="west-reimaged")  # the host's first life: SSM only, then it stopped pinging
    time.sleep(0.01)  # registration times must differ
    host("west-reimaged", west)  # re-imaged: a new registration under the same computer name
    host("west-ecs-only", west)
    host("half-onboarded")  # the SSM agent registered, the ECS agent never did

    emulator.set_ping([ids["east-lost"], ids["west-reimaged-old"]], seconds_ago=3600, region=REGION)
    emulator.set_container_instances([arns["east-disconnected"]], cluster=east, agent_connected=False, region=REGION)
    ecs.update_container_instances_state(cluster=east, containerInstances=[arns["east-draining"]], status="DRAINING")
    ssm.deregister_managed_instance(InstanceId=ids["west-ecs-only"])
    return ids


def aws_state(aws_client):
    """The emulator's fleet read with boto3: ({mi- id: SSM info}, {mi- id: (cluster, container instance)})."""
    ssm, ecs = aws_client("ssm", region_name=REGION), aws_client("ecs", region_name=REGION)
    managed = {}
    for page in ssm.get_paginator("describe_instance_information").paginate():
        managed.update((i["InstanceId"], i) for i in page["InstanceInformationList"])
    container = {}
    for cluster in CLUSTERS:
        arns = ecs.list_container_instances(cluster=cluster)["containerInstanceArns"]
        for instance in ecs.describe_container_instances(cluster=cluster, containerInstances=arns)[
            "containerInstances"
        ]:
            container[instance["ec2InstanceId"]] = (cluster, instance)
    return managed, container


def version(value):
    return tuple(int(p) for p in value.split(".")) if value else None


def expected_kinds(managed, container):
    """{mi- id: set of problem kinds}, worked out from AWS's answers alone (the test's own oracle)."""
    newest_ssm = max(version(i.get("AgentVersion")) for i in managed.values() if i.get("AgentVersion"))
    newest_ecs = max(version(c["versionInfo"]["agentVersion"]) for _cl, c in container.values())
    kinds = {}
    for instance_id in set(managed) | set(container):
        info, (cluster, ci) = managed.get(instance_id), container.get(instance_id, (None, None))
        found = set()
        if info and info["PingStatus"] in ("ConnectionLost", "Inactive"):
            found.add("ping_lost")
            later = [
                o
                for o in managed.values()
                if o["ComputerName"].lower() == info["ComputerName"].lower()
                and o["RegistrationDate"] > info["RegistrationDate"]
            ]
            if later:
                found.add("stale")
        if info and not ci:
            found.add("ssm_only")
        if ci and not info:
            found.add("ecs_only")
        if ci and not ci["agentConnected"]:
            found.add("agent_disconnected")
        if ci and ci["status"] == "DRAINING":
            found.add("draining")
        if info and (info.get("IsLatestVersion") is False or version(info["AgentVersion"]) < newest_ssm):
            found.add("ssm_agent_outdated")
        if ci and version(ci["versionInfo"]["agentVersion"]) < newest_ecs:
            found.add("ecs_agent_outdated")
        kinds[instance_id] = found
    return kinds


def severity(kinds):
    return "problem" if kinds & PROBLEM_KINDS else "warning" if kinds & WARNING_KINDS else "ok"


# ---------------------------------------------------------------- running the playbook


def run_report(env, out_dir, *extra, **overrides):
    vars_file = os.path.join(str(out_dir), "vars.json")
    with open(vars_file, "w", encoding="utf-8") as f:
        settings = dict(
            ecs_anywhere_region=REGION,
            ecs_anywhere_clusters=list(CLUSTERS),
            report_output_dir=str(out_dir / "reports"),
            report_formats=["html", "json", "text"],
        )
        json.dump(dict(settings, **overrides), f)
    command = [ANSIBLE_PLAYBOOK, "-i", "localhost,", PLAYBOOK, "-e", "@" + vars_file]
    command += ["-e", "ansible_python_interpreter=" + sys.executable] + list(extra)
    env = dict(env, ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0", AWS_SECRET_ACCESS_KEY=SECRET)
    started = time.monotonic()
    completed = subprocess.run(command, env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    return completed, time.monotonic() - started


def recap(stdout):
    line = [line for line in stdout.splitlines() if line.startswith("localhost")][-1]
    return {k: int(v) for k, v in (pair.split("=") for pair in line.split(":", 1)[1].split())}


@pytest.fixture(scope="module")
def report(fleet, aws_env, emulator, tmp_path_factory):
    """Check mode first (writes nothing), then the real run; returns what the real run wrote and said."""
    out_dir = tmp_path_factory.mktemp("report")
    check, _seconds = run_report(aws_env, out_dir, "--check")
    assert check.returncode == 0, check.stdout + check.stderr
    assert not os.path.exists(out_dir / "reports"), "check mode wrote the report"
    emulator.clear_calls()
    completed, seconds = run_report(aws_env, out_dir)
    print("report.yml over %d hosts: %.1fs" % (len(fleet), seconds))
    assert completed.returncode == 0, completed.stdout + completed.stderr
    calls = emulator.calls()
    paths = {ext: str(out_dir / "reports" / ("fleet-report." + ext)) for ext in ("html", "json", "txt")}
    return dict(check=check, completed=completed, calls=calls, paths=paths, out_dir=out_dir)


def test_check_mode_writes_nothing_and_says_what_would_change(report):
    stdout = report["check"].stdout
    assert "Would write: " in stdout and "fleet-report.html" in stdout
    assert recap(stdout)["changed"] >= 3  # the directory and the files it would write


def test_a_report_is_a_read_of_aws(report):
    operations = {c["operation"] for c in report["calls"]}
    assert operations and all(op.startswith(("Describe", "List")) for op in operations), operations
    # the files written are the run's only changes: directory + html + json + txt
    assert recap(report["completed"].stdout)["changed"] == 4
    for path in report["paths"].values():
        assert os.path.getsize(path) > 0


def test_no_secret_anywhere(report):
    for path in report["paths"].values():
        with open(path, encoding="utf-8") as f:
            assert SECRET not in f.read()
    assert SECRET not in report["completed"].stdout + report["completed"].stderr


def test_json_matches_aws(report, fleet, aws_client):
    managed, container = aws_state(aws_client)
    kinds = expected_kinds(managed, container)
    with open(report["paths"]["json"], encoding="utf-8") as f:
        document = json.load(f)
    got = {r["managed_instance_id"]: {p["kind"] for p in r["problems"]} for r in document["instances"]}
    assert got == kinds
    # the fleet shows each kind of problem (the fixture did what it meant to)
    assert set().union(*kinds.values()) == PROBLEM_KINDS | WARNING_KINDS - {"duplicate_name"}
    assert kinds[fleet["west-reimaged-old"]] == {"ping_lost", "ssm_only", "stale"}
    summary = document["summary"]
    assert summary["total"] == len(set(managed) | set(container)) == len(fleet)
    assert summary["problem"] == sum(1 for k in kinds.values() if severity(k) == "problem")
    assert summary["ok"] == sum(1 for k in kinds.values() if severity(k) == "ok") == 3
    assert document["clusters"] == list(CLUSTERS)


def test_console_table(report, aws_client):
    managed, container = aws_state(aws_client)
    kinds = expected_kinds(managed, container)
    stdout = report["completed"].stdout
    problems = sum(1 for k in kinds.values() if severity(k) == "problem")
    warnings = sum(1 for k in kinds.values() if severity(k) == "warning")
    assert (
        '"%d instances: %d with problems, %d with warnings, %d ok'
        % (
            len(kinds),
            problems,
            warnings,
            len(kinds) - problems - warnings,
        )
        in stdout
    )
    rows = [line for line in stdout.splitlines() if '"problem ' in line or '"warning ' in line or '"ok ' in line]
    assert len(rows) == len(kinds)
    for instance_id, found in kinds.items():
        [row] = [r for r in rows if instance_id in r]
        assert row.strip().strip('",').split()[0] == severity(found)
    # problems first in the table too
    order = [r.strip().strip('",').split()[0] for r in rows]
    assert order == sorted(order, key=["problem", "warning", "ok"].index)
    with open(report["paths"]["txt"], encoding="utf-8") as f:
        assert len(f.read().splitlines()) == len(kinds) + 3  # title, summary, header


@pytest.mark.parametrize(
    "overrides, names",
    [
        (dict(report_clusters=["rp-east", "no such/cluster"]), "report_clusters"),
        (dict(report_ecs_agent_version="latest"), "report_ecs_agent_version"),
        (dict(report_basename="../elsewhere"), "report_basename"),
    ],
)
def test_bad_input_fails_naming_it_before_any_aws_call(aws_env, emulator, tmp_path, overrides, names):
    emulator.clear_calls()
    completed, _seconds = run_report(aws_env, tmp_path, **overrides)
    assert completed.returncode != 0
    assert names in completed.stdout + completed.stderr
    assert emulator.calls() == []
    assert not os.path.exists(tmp_path / "reports")


def test_fail_on_problems_after_writing_the_report(fleet, aws_env, tmp_path):
    completed, _seconds = run_report(aws_env, tmp_path, report_fail_on="problem", report_formats=["json"])
    assert completed.returncode == 2, completed.stdout
    assert "report: 5 hosts with problems and 3 with warnings" in completed.stdout
    with open(tmp_path / "reports" / "fleet-report.json", encoding="utf-8") as f:
        assert json.load(f)["summary"]["problem"] == 5


# ---------------------------------------------------------------- the page in Chromium


def png_pixels(path):
    """(width, height, rows of RGB(A) bytes) of an 8-bit, non-interlaced PNG such as Chromium writes."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        chunk = data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif kind == b"IDAT":
            idat += chunk
        pos += 12 + length
    width, height, depth, color, _c, _f, interlace = header
    assert depth == 8 and interlace == 0 and color in (2, 6), header
    bpp = 4 if color == 6 else 3
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1 : (y + 1) * (stride + 1)])
        for x in range(stride):
            a = line[x - bpp] if x >= bpp else 0
            b, c = prev[x], prev[x - bpp] if x >= bpp else 0
            if kind == 1:
                line[x] = (line[x] + a) & 255
            elif kind == 2:
                line[x] = (line[x] + b) & 255
            elif kind == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


@pytest.fixture(scope="module")
def browser():
    subprocess.run([os.path.join(ROOT, "tests", "utils", "install_browser.sh")], check=True)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="report-chromium-")
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--user-data-dir=" + profile,
        "--window-size=1800,1100",
    ):
        options.add_argument(flag)
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never fetch a driver or browser
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def cells(driver, key):
    """The texts of the column whose header has data-key ``key``, top to bottom."""
    from selenium.webdriver.common.by import By

    keys = [th.get_attribute("data-key") for th in driver.find_elements(By.CSS_SELECTOR, "#fleet thead th")]
    column = keys.index(key)
    return [
        row.find_elements(By.TAG_NAME, "td")[column].text
        for row in driver.find_elements(By.CSS_SELECTOR, "#fleet tbody tr[data-order]")
    ]


def test_html_in_chromium(report, browser, aws_client, fleet):
    from selenium.webdriver.common.by import By

    managed, container = aws_state(aws_client)
    kinds = expected_kinds(managed, container)
    browser.get("file://" + report["paths"]["html"])
    os.makedirs(OUTPUT, exist_ok=True)
    screenshot = os.path.join(OUTPUT, "fleet-report.png")
    assert browser.save_screenshot(screenshot)

    # A real page, not a blank one: many colours, and a good share of the pixels not background.
    width, height, bpp, rows = png_pixels(screenshot)
    pixels = [row[x : x + 3] for row in rows[::4] for x in range(0, len(row), bpp * 4)]
    assert (width, height) == tuple(browser.execute_script("return [window.innerWidth, window.innerHeight]"))
    assert len(set(pixels)) > 20
    assert sum(1 for p in pixels if p != b"\xff\xff\xff") > len(pixels) // 20

    # No request left the page (the CSP would have blocked one; the page must not need any).
    assert browser.execute_script("return performance.getEntriesByType('resource').length") == 0

    def count(element_id):
        return int(browser.find_element(By.CSS_SELECTOR, "#%s .n" % element_id).text)

    assert browser.find_element(By.CSS_SELECTOR, "p.meta strong").text == REGION
    severities = [severity(k) for k in kinds.values()]
    assert count("count-total") == len(kinds)
    assert count("count-problem") == severities.count("problem")
    assert count("count-warning") == severities.count("warning")
    assert count("count-ok") == severities.count("ok")
    assert count("count-online") == sum(1 for i in managed.values() if i["PingStatus"] == "Online")
    for kind in PROBLEM_KINDS | WARNING_KINDS:
        assert count("kind-" + kind) == sum(1 for k in kinds.values() if kind in k), kind

    rows = browser.find_elements(By.CSS_SELECTOR, "#fleet tbody tr[data-order]")
    assert len(rows) == len(kinds)
    shown = [(r.get_attribute("data-instance-id"), r.get_attribute("data-severity")) for r in rows]
    assert dict(shown) == {i: severity(k) for i, k in kinds.items()}
    ranks = [["problem", "warning", "ok"].index(s) for _i, s in shown]
    assert ranks == sorted(ranks), "problems are not first"
    assert cells(browser, "status")[0] == "problem" and cells(browser, "status")[-1] == "ok"

    # A host's name is text, not markup.
    [row] = [r for r in rows if r.get_attribute("data-instance-id") == fleet["east-ok"]]
    assert HOSTILE_NAME in row.text
    assert browser.find_elements(By.CSS_SELECTOR, "#fleet img") == []
    assert browser.title.startswith("ECS Anywhere fleet")

    # Sorting by clicking a header: Host ascending, then descending.
    hosts = {i: managed[i]["ComputerName"] if i in managed else i for i in kinds}
    header = browser.find_element(By.CSS_SELECTOR, "#fleet th[data-key=host]")
    header.click()
    assert header.get_attribute("aria-sort") == "ascending"
    assert cells(browser, "host") == sorted(hosts.values(), key=str.lower)
    header.click()
    assert header.get_attribute("aria-sort") == "descending"
    assert cells(browser, "host") == sorted(hosts.values(), key=str.lower, reverse=True)
    # ... and back to problems first by the Status column.
    browser.find_element(By.CSS_SELECTOR, "#fleet th[data-key=status]").click()
    ranks = [["problem", "warning", "ok"].index(c) for c in cells(browser, "status")]
    assert ranks == sorted(ranks)
    browser.save_screenshot(os.path.join(OUTPUT, "fleet-report-sorted.png"))
