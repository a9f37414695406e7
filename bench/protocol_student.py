"""A student without a browser: speaks Streamlit's websocket protocol to the Draw page.

One Chromium page costs its machine ~0.5-1 s of CPU per drawing (rendering the page, the pointer
events, the answer), so this 2-core machine cannot run 30 browsers on the core left over from the
server. This student sends the server exactly what the browser sends after each stroke and clear:
a ``rerun_script`` message with every widget's state, the canvas as its fabric.js JSON and a PNG
of the canvas (drawn here with the same strokes, pen and colours). The server does the same work
for it as for a browser; only the browser's own rendering is missing, and so is its share of the
latency (measured by the Chromium students that run alongside).

Widget ids and the page hash are learned from the first page run, as the browser learns them.
"""

from __future__ import annotations

import asyncio
import base64
import io
import json
import re
import time
import urllib.parse
import urllib.request

from PIL import Image
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

from bench.strokes import PEN, render

WIDGET_ID = re.compile(rb"\$\$ID-[0-9a-f]{32}-(\w+)")


def canvas_png(strokes: list[list[tuple[float, float]]]) -> bytes:
    """The canvas' own PNG for these strokes: white round pen strokes on opaque black."""
    buffer = io.BytesIO()
    Image.fromarray(render(strokes), "RGBA").save(buffer, format="PNG")
    return buffer.getvalue()


def fabric_json(strokes: list[list[tuple[float, float]]]) -> dict:
    """The canvas' JSON for these strokes: one fabric.js Path object per stroke."""
    objects = []
    for points in strokes:
        path = [["M", *points[0]]] + [["L", *p] for p in points[1:]]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        objects.append(
            {
                "type": "Path",
                "version": "7.4.0",
                "originX": "center",
                "originY": "center",
                "left": (min(xs) + max(xs)) / 2,
                "top": (min(ys) + max(ys)) / 2,
                "width": max(xs) - min(xs),
                "height": max(ys) - min(ys),
                "fill": None,
                "stroke": "#FFFFFF",
                "strokeWidth": PEN,
                "strokeLineCap": "round",
                "strokeLineJoin": "round",
                "path": path,
            }
        )
    return {"version": "7.4.0", "objects": objects, "background": "#000000"}


class ProtocolStudent:
    """One session on the Draw page, driven over the websocket."""

    def __init__(self, url: str, query: str = ""):
        self.url = url
        self.query = query  # the page address's query string, e.g. "student=<resume code>"
        self.ws = None
        self.widget_ids: dict[str, str] = {}
        self.page_hash = ""
        self.answers: dict[bytes, float] = {}  # caption text -> arrival time
        self._finished = asyncio.Event()
        self._reader: asyncio.Task | None = None
        self.connected = False
        self.label_id: str | None = None  # the "was it right?" pills, once a joined answer shows
        self.label_fragment = ""  # the fragment of the latest answer's label pills
        self.pushes: dict[int, float] = {}  # pushed digits' answers on the page -> arrival
        self.shown_pushes = 0  # answers for a pushed digit that replaced the student's own
        self.pushed_answers: list[float] = []  # their arrival times (the rest: notices)
        self.strokes: list | None = None  # the canvas as last sent
        self.push_seen: int | None = None  # the push follower's state (ui/components/push/push.js)
        self.label_value: str | None = None  # the pill shown as chosen (None after a clear)

    async def connect(self) -> None:
        import websockets

        cookies = await asyncio.to_thread(self._cookies)
        xsrf = cookies.get("_streamlit_xsrf")
        ws_url = self.url.replace("http", "ws", 1) + "/_stcore/stream"
        protocols = ["streamlit", xsrf] if xsrf else ["streamlit"]
        # Like a browser, send back every cookie: behind nginx, the replica cookie keeps this
        # student on the replica that served its page.
        header = "; ".join(f"{k}={v}" for k, v in cookies.items())
        self.ws = await websockets.connect(
            ws_url,
            subprotocols=protocols,
            additional_headers={"Cookie": header} if header else None,
            max_size=None,
            compression=None,
        )
        self._reader = asyncio.create_task(self._read())
        await self._rerun(None)  # the first page run tells us the widget ids
        await self._wait_finished()
        if "canvas" not in self.widget_ids:
            raise RuntimeError("the Draw page sent no canvas")
        self.connected = True

    def _cookies(self) -> dict[str, str]:
        """The cookies the page sets (Streamlit's XSRF token; nginx's replica key)."""
        cookies = {}
        with urllib.request.urlopen(self.url + "/", timeout=30) as response:
            for header in response.headers.get_all("Set-Cookie") or []:
                name, value = header.split(";")[0].split("=", 1)
                cookies[name.strip()] = urllib.parse.unquote(value)
        return cookies

    async def _read(self) -> None:
        async for raw in self.ws:
            now = time.perf_counter()
            if b"your drawing (" in raw:
                start = raw.index(b"your drawing (")
                self.answers[raw[start : raw.index(b")", start) + 1]] = now
            # the pushed digit's answer, or the notice that it came while the student drew
            if b"Input: pushed by the teacher" in raw or b"while you were drawing" in raw:
                self.pushes[len(self.pushes)] = now
            if b"Input: pushed by the teacher" in raw:
                self.shown_pushes += 1  # the answer (and its label pills) made way for it
                self.pushed_answers.append(now)
            if b"class_label" in raw:  # the pills' fragment is new with each answer
                self._learn_label(raw)
            if self.connected:
                continue  # only answers matter from now on: keep this client light
            for match in WIDGET_ID.finditer(raw):
                self.widget_ids.setdefault(match.group(1).decode(), match.group(0).decode())
            msg = ForwardMsg()
            msg.ParseFromString(raw)
            kind = msg.WhichOneof("type")
            if kind == "new_session" and msg.new_session.page_script_hash:
                self.page_hash = msg.new_session.page_script_hash
            elif (
                kind == "script_finished"
                and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN
            ):
                # a run cut short by st.rerun (a new page taking a push made just now) is not
                # the page's first whole run: its widgets come with the next one
                self._finished.set()

    def _learn_label(self, raw: bytes) -> None:
        msg = ForwardMsg()
        msg.ParseFromString(raw)
        for match in WIDGET_ID.finditer(raw):
            if match.group(1) == b"class_label":
                self.label_id = match.group(0).decode()
                self.label_fragment = msg.delta.fragment_id if msg.HasField("delta") else ""
                return

    async def _wait_finished(self, timeout: float = 120) -> None:
        await asyncio.wait_for(self._finished.wait(), timeout)
        self._finished.clear()

    async def _rerun(
        self,
        strokes: list | None,
        extra: tuple[str, str] | None = None,
        fragment: str = "",
        push: int | None = None,
    ) -> None:
        msg = BackMsg()
        state = msg.rerun_script
        state.context_info.timezone = "UTC"
        state.context_info.locale = "en-US"
        state.context_info.url = self.url + "/" + (f"?{self.query}" if self.query else "")
        state.query_string = self.query
        if strokes is not None:
            self.strokes = strokes
            state.page_script_hash = self.page_hash
            ids = self.widget_ids
            if "stroke_width" in ids:
                w = state.widget_states.widgets.add()
                w.id = ids["stroke_width"]
                w.double_array_value.data.append(PEN)
            if "pick_class" in ids:
                w = state.widget_states.widgets.add()
                w.id = ids["pick_class"]
                w.string_value = "any"
            w = state.widget_states.widgets.add()
            w.id = ids["canvas"]
            data = "data:image/png;base64," + base64.b64encode(canvas_png(strokes)).decode()
            w.json_value = json.dumps({"drawing": {"raw": fabric_json(strokes), "data": data}})
            if extra is None and self.label_value is not None:  # a chosen pill stays chosen
                extra = (self.label_id, self.label_value)
            if extra is not None:
                w = state.widget_states.widgets.add()
                w.id = extra[0]
                w.string_array_value.SetInParent()
                if extra[1] is not None:
                    w.string_array_value.data.append(extra[1])
            if push is not None:
                self.push_seen = push
            if self.push_seen is not None and "push_follower" in ids:
                # the follower's state goes with every request, as the browser sends it
                w = state.widget_states.widgets.add()
                w.id = ids["push_follower"]
                w.json_value = json.dumps({"push": self.push_seen})
            if fragment:
                state.fragment_id = fragment
        self._finished.clear()
        await self.ws.send(msg.SerializeToString())

    async def label(self, value: str) -> bool:
        """Tap a "was it right?" pill ("Right" or a digit) under the current answer, as the
        browser does: the canvas as it is, with the pill's new value, in the answer fragment."""
        if self.label_id is None or self.strokes is None:
            return False
        self.label_value = value
        await self._rerun(self.strokes, extra=(self.label_id, value), fragment=self.label_fragment)
        return True

    async def follow_push(self, push_id: int) -> None:
        """What the page's push follower sends when it sees a newer push id (ui/components/push/push.js)."""
        await self._rerun(self.strokes or [], push=push_id)

    async def draw(self, strokes: list[list[tuple[float, float]]]) -> None:
        """Send the canvas as it is after these strokes (what the canvas sends on pen-up)."""
        await self._rerun(strokes)

    async def clear(self) -> None:
        # As the browser: the Clear's request still carries the pills as shown (a tap not yet
        # handled goes with it); then they go with the drawing, and the next one's start empty.
        await self._rerun([])
        self.label_value = None

    async def answer(self, strokes: int, sent_at: float, timeout: float) -> float | None:
        """Seconds from ``sent_at`` until the answer for a drawing of ``strokes`` strokes came."""
        key = f"your drawing ({strokes} stroke{'s' if strokes != 1 else ''})".encode()
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            at = self.answers.get(key)
            if at is not None and at >= sent_at:
                return at - sent_at
            await asyncio.sleep(0.005)
        return None

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()
        if self._reader is not None:
            self._reader.cancel()
