#!/usr/bin/env python3
"""Opens an ipctrace HTML page in headless Chromium and reports what a reader gets.

Talks the DevTools protocol over --remote-debugging-pipe (fds 3 and 4, NUL-separated JSON), so
it needs nothing but the standard library and Debian's chromium. Prints one JSON object:
  requests    every URL the page asked for (the page itself included)
  errors      console errors, uncaught exceptions and browser log errors (CSP violations too)
  checked     how many shown numbers (data-json) were held to the embedded JSON
  mismatches  those whose shown text does not round to the document's value
  nodes/edges the communication map's boxes and arrows; histograms: their mechanisms
  screenshot  the PNG written (whole page)
Usage: browser_check.py PAGE.html SCREENSHOT.png
"""
import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

EXTRACT = r"""(() => {
  const data = document.getElementById('ipctrace-report');
  const q = (sel) => [...document.querySelectorAll(sel)];
  return {
    doc: data ? JSON.parse(data.textContent) : null,
    shown: q('[data-json]').map(e => ({pointer: e.dataset.json, text: e.textContent})),
    nodes: q('svg.comm-map g.node').map(g => ({pids: g.dataset.pids, comm: g.dataset.comm, linked: g.dataset.linked !== 'no'})),
    edges: q('svg.comm-map g.edge').map(g => ({from: g.dataset.from, to: g.dataset.to, mechanism: g.dataset.mechanism,
                                                bytes: Number(g.dataset.bytes),
                                                label: (g.querySelector('text') || {}).textContent || ''})),
    histograms: q('svg.histogram').map(s => s.dataset.mechanism),
    title: document.title,
    width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
  };
})()"""

UNITS = {"": 1, "B": 1, "KiB": 1024, "MiB": 1024 ** 2, "GiB": 1024 ** 3, "TiB": 1024 ** 4,
         "ns": 1, "us": 1e3, "µs": 1e3, "ms": 1e6, "s": 1e9, "%": 0.01}


def resolve(doc, pointer):
    node = doc
    for token in pointer.split("/")[1:]:
        token = token.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list):
            node = node[int(token)]
        else:
            node = node[token]
    return node


def matches(text, value):
    """The shown text is the value rounded to the digits shown, in the unit shown."""
    m = re.fullmatch(r"\s*(-?\d+)(?:\.(\d+))?\s*([A-Za-zµ%]*)\s*", text)
    if not m or m.group(3) not in UNITS:
        return False
    unit = UNITS[m.group(3)]
    digits = len(m.group(2) or "")
    shown = float(m.group(1) + ("." + m.group(2) if m.group(2) else "")) * unit
    tolerance = 0.5 * 10 ** -digits * unit * (1 + 1e-9) + 1e-9
    return abs(shown - float(value)) <= tolerance


class Browser:
    def __init__(self):
        self.profile = tempfile.mkdtemp(prefix="ipctrace-chromium-")
        to_browser_r, self.to_browser = os.pipe()
        self.from_browser, from_browser_w = os.pipe()

        def fds():  # the browser reads commands on fd 3 and writes replies on fd 4
            a, b = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--remote-debugging-pipe",
             "--user-data-dir=" + self.profile, "--no-first-run", "--no-default-browser-check",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--disable-extensions", "--hide-scrollbars", "--window-size=1280,900", "about:blank"],
            preexec_fn=fds, close_fds=False, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self.buffer = b""
        self.next_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self.to_browser, json.dumps(message).encode() + b"\0")
        wanted = self.next_id
        while True:
            reply = self.receive(30)
            if reply.get("id") == wanted:
                if "error" in reply:
                    raise RuntimeError(method + ": " + json.dumps(reply["error"]))
                return reply.get("result", {})
            self.events.append(reply)

    def receive(self, timeout):
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buffer:
            if time.monotonic() > deadline:
                raise TimeoutError("chromium did not answer")
            chunk = os.read(self.from_browser, 1 << 20)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def wait_for(self, method, timeout):
        deadline = time.monotonic() + timeout
        while True:
            for e in self.events:
                if e.get("method") == method:
                    return e
            self.events.append(self.receive(max(deadline - time.monotonic(), 0.1)))

    def close(self):
        try:
            self.send("Browser.close")
        except Exception:
            pass
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    page, screenshot = os.path.abspath(sys.argv[1]), sys.argv[2]
    url = "file://" + page
    browser = Browser()
    try:
        target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.send(domain + ".enable", {}, session)
        browser.send("Page.navigate", {"url": url}, session)
        browser.wait_for("Page.loadEventFired", 30)
        seen = browser.send("Runtime.evaluate", {"expression": EXTRACT, "returnByValue": True}, session)
        if "exceptionDetails" in seen:
            raise RuntimeError("extracting the page failed: " + json.dumps(seen["exceptionDetails"]))
        view = seen["result"]["value"]
        browser.send("Emulation.setDeviceMetricsOverride",
                     {"width": max(view["width"], 1280), "height": view["height"], "deviceScaleFactor": 1, "mobile": False},
                     session)
        shot = browser.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session)
        with open(screenshot, "wb") as f:
            f.write(base64.b64decode(shot["data"]))
        time.sleep(0.2)  # late console messages
        browser.events.append({"method": "drain"})
    finally:
        browser.close()

    requests, errors = [], []
    for e in browser.events:
        method, params = e.get("method"), e.get("params", {})
        if method == "Network.requestWillBeSent":
            requests.append(params["request"]["url"])
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            errors.append("console: " + " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", [])))
        elif method == "Runtime.exceptionThrown":
            errors.append("exception: " + json.dumps(params.get("exceptionDetails", {}))[:300])
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            errors.append("log: " + params["entry"].get("text", ""))

    doc, mismatches = view.pop("doc"), []
    if doc is None:
        errors.append("no embedded JSON document (script#ipctrace-report)")
    for s in view["shown"]:
        try:
            value = resolve(doc, s["pointer"])
        except (KeyError, IndexError, ValueError, TypeError):
            value = None
        if value is None and s["text"] == "–":
            continue
        if value is None or not isinstance(value, (int, float)) or not matches(s["text"], value):
            mismatches.append({"pointer": s["pointer"], "shown": s["text"], "document": value})
    print(json.dumps({"requests": requests, "errors": errors, "checked": len(view["shown"]), "mismatches": mismatches,
                      "shown": sorted({x["pointer"] for x in view["shown"]}),
                      "nodes": view["nodes"], "edges": view["edges"], "histograms": view["histograms"],
                      "title": view["title"], "screenshot": screenshot}))


if __name__ == "__main__":
    main()
