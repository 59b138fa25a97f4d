"""--metrics-file and --log-level on the real uio_pci_generic: the echo server on QEMU's legacy
virtio-net writes a Prometheus text file that `promtool check metrics` accepts (on the host),
whose counters follow the host's pings, and whose link gauge and stderr log follow a QMP
set_link off."""

import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from vmlib import VM, check  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("SWIFT_UIO_BIN", os.path.join(REPO, ".build", "release"))
ADDR = "0000:00:04.0"

GUEST = f"""
log=/results/echo.log
{BIN}/echo-server {ADDR} --ip 192.0.2.2/24 --mode interrupt --stats-interval 1 \\
  --metrics-file /results/swift-uio.prom --log-level debug > $log 2>/results/echo.err &
PID=$!
i=0; while ! grep -q ready $log; do
  i=$((i+1)); [ $i -gt 300 ] && {{ echo "server did not start"; cat $log /results/echo.err; exit 1; }}
  kill -0 $PID 2>/dev/null || {{ echo "server died"; cat $log /results/echo.err; exit 1; }}
  sleep 0.1; done
mark READY
wait_host stop 300
kill -TERM $PID; wait $PID; echo "server-exit=$?"
"""


def metric(text, name, labels):
    m = re.search(rf"^{name}\{{{re.escape(labels)}\}} (\S+)$", text, re.M)
    return float(m.group(1)) if m else None


def read_when(path, predicate, timeout):
    """The file's text once `predicate` holds for it (the server rewrites it every second)."""
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        if os.path.exists(path):
            with open(path) as f:
                text = f.read()
            if predicate(text):
                return text
        time.sleep(0.2)
    return text


def promtool(path):
    exe = shutil.which("promtool")
    check(exe is not None, "promtool is missing: install Debian's prometheus package (scripts/install-deps)")
    with open(path) as f:
        return subprocess.run([exe, "check", "metrics"], stdin=f, capture_output=True, text=True, timeout=30)


def test_metrics_file_and_logs():
    with VM(nics=["legacy"], uio=True, guest_script=GUEST, timeout=300) as vm:
        vm.wait_for_line(r"^READY", timeout=120)
        prom = os.path.join(vm.results, "swift-uio.prom")
        p = vm.netns_exec(["ping", "-c", "20", "-i", "0.02", "-W", "5", vm.guest_ip(0)], timeout=60)
        check(" 20 received" in p.stdout, f"ping: {p.stdout}")
        rx_labels = f'device="{ADDR}",driver="virtio-net",queue="0"'
        dev_labels = f'device="{ADDR}",driver="virtio-net"'
        text = read_when(prom, lambda t: (metric(t, "uio_rx_packets_total", rx_labels) or 0) >= 20, 10)
        rx = metric(text, "uio_rx_packets_total", rx_labels)
        print(f"  rx counter after 20 pings: {rx}; link_up {metric(text, 'uio_link_up', dev_labels)}")
        check(rx is not None and rx >= 20, f"uio_rx_packets_total must count the 20 pings: {text}")
        check(metric(text, "uio_link_up", dev_labels) == 1, f"link up: {text}")
        check(metric(text, "uio_pool_free_buffers", rx_labels) is not None, f"pool gauge: {text}")
        result = promtool(prom)
        print(f"  promtool check metrics: exit {result.returncode} {result.stdout.strip()} {result.stderr.strip()}")
        check(result.returncode == 0, f"promtool check metrics: {result.stdout} {result.stderr}\n{text}")

        vm.set_link(0, False)
        text = read_when(prom, lambda t: metric(t, "uio_link_up", dev_labels) == 0, 10)
        check(metric(text, "uio_link_up", dev_labels) == 0, f"link down must reach the gauge: {text}")
        check((metric(text, "uio_link_changes_total", dev_labels) or 0) >= 1, f"link changes: {text}")
        vm.set_link(0, True)
        vm.write_file("stop")
        rc = vm.wait(timeout=60)
        err = open(os.path.join(vm.results, "echo.err")).read()
    print("  stderr: " + " | ".join(l for l in err.splitlines() if "link" in l or "device" in l))
    check(rc == 0 and "server-exit=0" in vm.stdout, f"echo-server must exit 0: {vm.stdout}")
    check(re.search(rf"notice echo-server: .*pci-address={ADDR}.* link down", err) is not None
          or re.search(rf"notice echo-server:.*link down", err) is not None, f"a notice for the link drop on stderr: {err}")
    check(f"pci-address={ADDR}" in err and "driver=virtio-net" in err, f"metadata on stderr: {err}")
    check("device ready" in err and "device shut down" in err, f"set-up and reset records on stderr: {err}")
    check(not [l for l in err.splitlines() if "rx=" in l], "no per-packet or stats lines on stderr")
