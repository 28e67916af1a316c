"""Drive headless Chromium through the DevTools protocol over a pipe (stdlib only).

``--remote-debugging-pipe`` makes Chromium read JSON commands from file descriptor 3 and
write replies and events to descriptor 4, each message ended by a NUL byte. That is enough
to open a page, wait for a condition in it, read its DOM (closed shadow roots included) and
take a screenshot, without a WebSocket client or a browser download.
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

# Only the local server resolves: a page that reaches for a CDN fails, as it would offline.
OFFLINE = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"
COMMAND_FD, REPLY_FD = 3, 4


class Chromium:
    """One headless Chromium with one page, driven over the DevTools pipe."""

    def __init__(self, binary: str, profile: Path, width: int = 1280, height: int = 1800) -> None:
        command_read, self._command_write = os.pipe()
        self._reply_read, reply_write = os.pipe()

        def wire_pipes() -> None:  # runs in the child, before exec
            high_command = os.dup(command_read) if command_read < 10 else command_read
            high_reply = os.dup(reply_write) if reply_write < 10 else reply_write
            os.dup2(high_command, COMMAND_FD)
            os.dup2(high_reply, REPLY_FD)

        arguments = [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--remote-debugging-pipe",
            f"--user-data-dir={profile}",
            OFFLINE,
            "about:blank",
        ]
        self._process = subprocess.Popen(
            arguments,
            preexec_fn=wire_pipes,  # noqa: PLW1509 - needed to place the pipe descriptors
            pass_fds=(COMMAND_FD, REPLY_FD),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        os.close(command_read)
        os.close(reply_write)
        self._buffer = b""
        self._last_id = 0
        target = self.call("Target.createTarget", url="about:blank")["targetId"]
        self._session = self.call("Target.attachToTarget", targetId=target, flatten=True)[
            "sessionId"
        ]
        self.call_in_page(
            "Emulation.setDeviceMetricsOverride",
            width=width,
            height=height,
            deviceScaleFactor=1,
            mobile=False,
        )
        self.call_in_page("Page.enable")

    def call(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        """Send one DevTools command and return its result."""
        self._last_id += 1
        message: dict[str, Any] = {"id": self._last_id, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        os.write(self._command_write, json.dumps(message).encode() + b"\0")
        while True:
            while b"\0" not in self._buffer:
                chunk = os.read(self._reply_read, 1 << 16)
                if not chunk:
                    raise RuntimeError(f"Chromium exited while answering {method}")
                self._buffer += chunk
            raw, self._buffer = self._buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self._last_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                result: dict[str, Any] = reply["result"]
                return result

    def call_in_page(self, method: str, **params: Any) -> dict[str, Any]:
        """Send a command to the page's session."""
        return self.call(method, self._session, **params)

    def open(self, url: str) -> None:
        """Navigate the page to ``url``."""
        self.call_in_page("Page.navigate", url=url)

    def load(self, url: str, timeout: float = 30) -> None:
        """Navigate to ``url`` and wait until that page has loaded."""
        self.open(url)
        self.wait_for(
            f"location.href === {json.dumps(url)} && document.readyState === 'complete'", timeout
        )

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        reply = self.call_in_page("Runtime.evaluate", expression=expression, returnByValue=True)
        return reply["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 30) -> Any:
        """Poll ``expression`` until it is truthy; return it, or raise after ``timeout`` s."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"{expression!r} stayed falsy for {timeout} s")
            time.sleep(0.2)

    def document(self) -> dict[str, Any]:
        """The whole DOM tree, closed shadow roots included."""
        root: dict[str, Any] = self.call_in_page("DOM.getDocument", depth=-1, pierce=True)["root"]
        return root

    def call_on_node(self, node_id: int, function: str) -> Any:
        """The value of JavaScript ``function`` called with a DOM node as ``this``.

        ``node_id`` comes from :meth:`document`, so this reaches into closed shadow roots,
        where no script of the page can.
        """
        handle = self.call_in_page("DOM.resolveNode", nodeId=node_id)["object"]["objectId"]
        reply = self.call_in_page(
            "Runtime.callFunctionOn",
            functionDeclaration=function,
            objectId=handle,
            returnByValue=True,
        )
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{function!r} raised: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def screenshot(self, path: Path) -> None:
        """Save a PNG of the viewport to ``path``."""
        data = self.call_in_page("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        """Close the browser and reap its process."""
        try:
            self.call("Browser.close")
        except RuntimeError:
            pass  # it may exit before it answers
        finally:
            os.close(self._command_write)
            os.close(self._reply_read)
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()


def walk(node: dict[str, Any]) -> list[dict[str, Any]]:
    """Every node under ``node`` (itself included), through shadow roots and frames."""
    found = [node]
    for key in ("children", "shadowRoots"):
        for child in node.get(key, []):
            found.extend(walk(child))
    if "contentDocument" in node:
        found.extend(walk(node["contentDocument"]))
    return found


def attributes(node: dict[str, Any]) -> dict[str, str]:
    """A DOM node's attributes as a mapping (the protocol sends a flat list)."""
    flat = node.get("attributes", [])
    return dict(zip(flat[::2], flat[1::2], strict=True))
