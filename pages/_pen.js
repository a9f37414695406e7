// Pen tools for streamlit-drawable-canvas (0.13.0), which sits just above this component.
//
// 1. Every finished stroke is sent at once. The canvas itself waits 200 ms after each mouse-up
//    before it sends (a debounce), most of the time a learner waits for an answer. On pointer-up
//    we press the canvas's own "Update the app with this drawing" control, which sends at once
//    and cancels that wait.
// 2. "Clear" empties the canvas in the browser, through the canvas's own reset control, so a
//    clear never waits for the server: strokes drawn right after it land on the empty canvas.
//
// Both controls are found by their accessible names in the canvas's (open) shadow root. If they
// are missing (another canvas version), strokes are sent after the canvas's own delay and Clear
// asks the server to re-create the canvas (the "clear" trigger), as before.

const SEND = 'button[aria-label="Update the app with this drawing"]';
const RESET = 'button[aria-label="Reset canvas & history"]';
const wired = new WeakSet();

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

function wire(root) {
  if (wired.has(root)) return;
  wired.add(root);
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
  const button = parentElement.querySelector("button.pen-clear");
  let root = null;
  let tries = 0;
  const connect = () => {
    root = findCanvasRoot(host);
    if (root) {
      wire(root);
    } else if (++tries < 100) {
      setTimeout(connect, 100); // the canvas module may still be loading
    }
  };
  connect();
  button.onclick = () => {
    const reset = root && root.querySelector(RESET);
    if (reset) {
      reset.click();
    } else {
      setTriggerValue("clear", Date.now());
    }
  };
}
