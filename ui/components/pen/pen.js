// Pen tools for streamlit-drawable-canvas (0.13.0), which sits just above this component.
//
// 1. Every finished stroke is sent at once. The canvas itself waits 200 ms after each mouse-up
//    before it sends (a debounce), most of the time a learner waits for an answer. On pointer-up
//    we press the canvas's own "Update the app with this drawing" control, which sends at once
//    and cancels that wait.
// 2. "Clear" empties the canvas in the browser, through the canvas's own reset control, so a
//    clear never waits for the server: strokes drawn right after it land on the empty canvas.
// 3. "Undo" takes back the last stroke, through the canvas's own undo control.
// 4. The canvas's own toolbar is hidden. It is invisible until hovered, yet it lies over the
//    canvas's top-right corner until its slide-up transition has run (on a touch screen, which
//    has no hover, for good): a stroke begun there was swallowed by it. Our buttons replace it.
//
// The controls are found by their accessible names in the canvas's (open) shadow root. If they
// are missing (another canvas version), strokes are sent after the canvas's own delay, Undo is
// hidden and Clear asks the server to re-create the canvas (the "clear" trigger), as before.

const SEND = 'button[aria-label="Update the app with this drawing"]';
const RESET = 'button[aria-label="Reset canvas & history"]';
const UNDO = 'button[aria-label="Undo"]';
const HIDE_TOOLBAR = ".dc-toolbar { display: none !important; }";
const EVERY_FRAME_MS = 10_000;
const wired = new WeakSet();
// Our Undo -> the observer that mirrors the canvas's undo onto it. Streamlit calls this module's
// function again when the component re-renders, without the previous call's cleanup (that runs
// only on unmount): kept here, a re-render replaces the observer instead of adding one.
const undoWatches = new WeakMap();

function findCanvasRoot(host) {
  // The canvas and these tools share the nearest Streamlit block.
  const block = host.closest('[data-testid="stVerticalBlock"]') || document;
  for (const el of block.querySelectorAll('[data-testid="stBidiComponentIsolated"]')) {
    const root = el.shadowRoot;
    if (root && root.querySelector(".dc-root") && root.querySelector("canvas.upper-canvas")) {
      return root;
    }
  }
  return null;
}

// Our Undo is usable exactly when the canvas's is (nothing to undo after a Clear); hidden if the
// canvas has no undo control.
function follow(undo, theirs) {
  undoWatches.get(undo)?.disconnect();
  undo.hidden = !theirs;
  if (!theirs) return;
  const mirror = () => {
    undo.disabled = theirs.disabled;
  };
  mirror();
  const watch = new MutationObserver(mirror);
  watch.observe(theirs, { attributes: true, attributeFilter: ["disabled"] });
  undoWatches.set(undo, watch);
}

// Keys pressed inside a component stay there: Streamlit's own shortcuts (r: rerun, c: clear
// caches) listen on the document, and would fire while a pen tool has the keyboard's focus.
function stopShortcuts(node) {
  node.addEventListener("keydown", (e) => e.stopPropagation());
}

function wire(root) {
  if (wired.has(root)) return;
  wired.add(root);
  const style = document.createElement("style");
  style.textContent = HIDE_TOOLBAR;
  root.appendChild(style);
  stopShortcuts(root);
  const upper = root.querySelector("canvas.upper-canvas");
  let drawing = false;
  upper.addEventListener("pointerdown", () => {
    drawing = true;
  });
  const finish = () => {
    if (!drawing) return;
    drawing = false;
    // After the canvas's own pointer-up handling, which adds the stroke and starts its timer.
    setTimeout(() => root.querySelector(SEND)?.click(), 0);
  };
  window.addEventListener("pointerup", finish);
  window.addEventListener("pointercancel", finish);
}

export default function ({ parentElement, setTriggerValue }) {
  const host = parentElement.host || parentElement;
  const clear = parentElement.querySelector("button.pen-clear");
  const undo = parentElement.querySelector("button.pen-undo");
  const row = parentElement.querySelector(".pen-row");
  if (!wired.has(row)) {
    wired.add(row);
    stopShortcuts(row);
  }
  let root = null;
  // The canvas's module may load after these tools (slowly, on a busy server) and the canvas may
  // be re-created: look for it again whenever the one held is gone, and keep looking until it is
  // there.
  const canvasRoot = () => {
    if (!root || !root.host || !root.host.isConnected) {
      root = findCanvasRoot(host);
      if (root) {
        wire(root);
        follow(undo, root.querySelector(UNDO));
      }
    }
    return root;
  };
  // Until the canvas is there, a stroke begun in its top-right corner still meets the toolbar:
  // look every frame at first (it usually comes within a second of these tools), then once a
  // second for a canvas that is slow to come, or never does (another version).
  let cancel = () => {};
  const connect = (since = performance.now()) => {
    if (canvasRoot()) return;
    const again = () => connect(since);
    if (performance.now() - since < EVERY_FRAME_MS) {
      const frame = requestAnimationFrame(again);
      cancel = () => cancelAnimationFrame(frame);
    } else {
      const timer = setTimeout(again, 1000);
      cancel = () => clearTimeout(timer);
    }
  };
  connect();
  clear.onclick = () => {
    const reset = canvasRoot()?.querySelector(RESET);
    // How clears were done, for the classroom benchmark to report.
    const count = reset ? "canvasClears" : "serverClears";
    clear.dataset[count] = String(Number(clear.dataset[count] || 0) + 1);
    if (reset) {
      reset.click();
    } else {
      setTriggerValue("clear", Date.now());
    }
  };
  undo.onclick = () => canvasRoot()?.querySelector(UNDO)?.click();
  return () => {
    cancel();
    undoWatches.get(undo)?.disconnect();
  };
}
