#!/usr/bin/env python3
"""Browser test of the web view: runs `vigie demo`, opens the channel page in headless Chromium
through chromedriver's W3C WebDriver API (python3 standard library only), waits for the first
alert, presses Acknowledge and checks the message changes; checks that a Sentry title holding a
<script> tag is shown as text and never runs. With --screenshots DIR it also saves the channel and
the alerts page as PNGs (docs/images/). Exit 77 (ctest SKIP) only when Chromium or chromedriver
is not installed.

Usage: channel_test.py VIGIE_BINARY [--screenshots DIR]
"""
import base64
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

SKIP = 77


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WebDriver:
    def __init__(self, url):
        self.url = url
        self.session = None

    def call(self, method, path, body=None, timeout=30):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return json.loads(r.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            value = json.loads(e.read() or b"{}").get("value", {})
            raise RuntimeError(f"{method} {path}: {e.code} {value.get('error')}: {value.get('message', '')[:300]}")

    def start(self, chromium):
        caps = {"capabilities": {"alwaysMatch": {"browserName": "chrome", "goog:chromeOptions": {
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,1000", "--hide-scrollbars"]}}}}
        self.session = self.call("POST", "/session", caps, timeout=60)["sessionId"]

    def s(self, path):
        return f"/session/{self.session}{path}"

    def go(self, url):
        self.call("POST", self.s("/url"), {"url": url})

    def script(self, code, *args):
        return self.call("POST", self.s("/execute/sync"), {"script": code, "args": list(args)})

    def find_all(self, css):
        return self.call("POST", self.s("/elements"), {"using": "css selector", "value": css})

    def click(self, element):
        self.call("POST", self.s(f"/element/{list(element.values())[0]}/click"), {})

    def screenshot(self, path):
        png = base64.b64decode(self.call("GET", self.s("/screenshot")))
        with open(path, "wb") as f:
            f.write(png)

    def open_alert(self):
        try:
            return self.call("GET", self.s("/alert/text"))
        except RuntimeError as e:
            if "no such alert" in str(e):
                return None
            raise

    def quit(self):
        if self.session:
            try:
                self.call("DELETE", self.s(""), timeout=10)
            except Exception:
                pass


def wait(what, pred, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        value = pred()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for " + what)


def main():
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    vigie = sys.argv[1]
    shots = sys.argv[sys.argv.index("--screenshots") + 1] if "--screenshots" in sys.argv else None
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    if not chromium or not driver:
        print("SKIP: the browser test needs Debian's chromium and chromium-driver "
              "(./scripts/install-deps chromium chromium-driver); not installed here")
        return SKIP

    tmp = tempfile.mkdtemp(prefix="vigie-browser-")
    out_path = os.path.join(tmp, "demo.out")
    procs = []
    wd = None
    try:
        with open(out_path, "w") as out:
            procs.append(subprocess.Popen([vigie, "demo", "--port", "0", "--speed", "40", "--for", "150s"],
                                          stdout=out, stderr=subprocess.STDOUT))
        line = wait("the demo's address", lambda: next(
            (l for l in open(out_path) if "Vigie demo: open http://127.0.0.1:" in l), None), 30)
        base = line.split("open ")[1].split()[0].rstrip("/")
        dport = free_port()
        procs.append(subprocess.Popen([driver, f"--port={dport}"], stdout=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL))
        wd = WebDriver(f"http://127.0.0.1:{dport}")
        wait("chromedriver", lambda: _ready(wd), 30)
        wd.start(chromium)
        wd.go(base + "/#channel")

        # The first alert arrives; pressing its Acknowledge button edits the message.
        buttons = wait("an Acknowledge button", lambda: wd.find_all('#messages button[data-action-id="vigie_ack"]'), 90)
        ts = wd.script("return arguments[0].closest('.msg').dataset.ts", buttons[0])
        before = wd.script("return arguments[0].closest('.msg').innerText", buttons[0])
        assert "Acknowledged by" not in before, before
        wd.click(buttons[0])
        after = wait("the message to say who acknowledged it", lambda: (lambda t: t if t and "Acknowledged by @you" in t else None)(
            wd.script("const m = document.querySelector('#messages .msg[data-ts=\"' + arguments[0] + '\"]');"
                      "return m ? m.innerText : ''", ts)), 30)
        print("acknowledged from the page:", after.splitlines()[0] if after else "")

        # A Sentry title with <script> is text: visible as typed, no script element, no dialog.
        text = wait("the Sentry title with a <script> tag",
                    lambda: (lambda t: t if '<script>alert("pwned")</script>' in t else None)(
                        wd.script("return document.getElementById('messages').innerText")), 90)
        assert wd.script("return document.querySelectorAll('#messages script').length") == 0
        assert wd.open_alert() is None, "a script from event text ran"
        print("the <script> title is shown as text")

        if shots:
            os.makedirs(shots, exist_ok=True)
            wait("the scenario to end", lambda: any("] DONE" in l for l in open(out_path)), 120)
            time.sleep(1.5)  # the page polls every second
            wd.screenshot(os.path.join(shots, "demo-channel.png"))
            wd.go(base + "/#alerts")
            wait("the alerts table", lambda: len(wd.find_all("#alerts tr")) > 2, 20)
            wd.screenshot(os.path.join(shots, "demo-alerts.png"))
            print("screenshots in", shots)
        return 0
    except Exception as e:
        print("FAILED:", e)
        print(open(out_path).read() if os.path.exists(out_path) else "")
        return 1
    finally:
        if wd:
            wd.quit()
        for p in procs:
            p.terminate()
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(tmp, ignore_errors=True)


def _ready(wd):
    try:
        return wd.call("GET", "/status", timeout=2).get("ready")
    except Exception:
        return False


if __name__ == "__main__":
    sys.exit(main())
