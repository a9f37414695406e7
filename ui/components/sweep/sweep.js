// The slider of the adversarial lab, answered in the browser: epsilon for FGSM and PGD, the
// number of pixels changed for JSMA (data.axis, "epsilon" or "pixels").
//
// The server sends the whole sweep once per digit and attack: for every epsilon on the slider,
// the adversarial image, the change, the network's answer, its ten probabilities and the size of
// the change (mnist_viz.adversarial.lab.sweep_view). Moving the slider only swaps what is shown: no request,
// so the new image is on screen in the next frame. When the slider is released, its value is
// sent to the server, which redraws what depends on it further down the page.

const pct = (p) => `${Math.round(100 * p)}%`;
const state = new WeakMap();

// What the slider's axis is called, and how a setting reads, on either axis.
const AXES = {
  epsilon: {
    label: "epsilon",
    hint: () => "how far any pixel may move (0 = black, 1 = white)",
    value: (v) => v.toFixed(2),
    at: (v) => `at epsilon ${v.toFixed(2)}`,
    fooled: (s) => `though no pixel moved more than ${s.linf.toFixed(2)}`,
    flip: (v) => v.toFixed(3),
    change: "The change, scaled to be seen:",
  },
  pixels: {
    label: "pixels changed",
    hint: (data) =>
      "JSMA whitens two pixels at a time (outlined), those that push hardest towards " +
      `${data.goal}` + (data.target === null ? ", the network's second choice" : ""),
    value: (v) => String(v),
    at: (v) => `with ${v} of 784 pixels changed`,
    fooled: (s) => `with ${s.changed} of 784 pixels changed`,
    flip: (v) => `${v} pixels`,
    change: "The change, on its full scale (a pixel moves by up to 1):",
  },
};

function build(root) {
  root.innerHTML = `
    <div class="sw">
      <div class="sw-head">
        <label for="sw-range"><span class="sw-axis">epsilon</span> <output class="sw-eps"></output></label>
        <span class="sw-hint"></span>
      </div>
      <div class="sw-track">
        <input id="sw-range" class="sw-range" type="range" min="0" step="1">
        <div class="sw-marks"></div>
      </div>
      <div class="sw-row">
        <figure><img class="sw-clean" alt="original digit">
          <figcaption>Original: <b class="sw-clean-cls"></b> <span class="sw-clean-p"></span></figcaption></figure>
        <figure><img class="sw-chg" alt="the change">
          <figcaption><span class="sw-chg-cap">The change, scaled to be seen:</span> <span class="sw-blue">darker</span> /
          <span class="sw-red">brighter</span></figcaption></figure>
        <figure><img class="sw-adv" alt="adversarial digit">
          <figcaption>Adversarial: <b class="sw-adv-cls"></b> <span class="sw-adv-p"></span></figcaption></figure>
      </div>
      <p class="sw-verdict" role="status"></p>
      <div class="sw-numbers">
        <span>L-infinity size <b class="sw-linf"></b> <small class="sw-levels"></small></span>
        <span>L2 size <b class="sw-l2"></b></span>
        <span>Pixels changed <b class="sw-changed"></b> of 784</span>
      </div>
      <div class="sw-bars" role="list" aria-label="the ten probabilities, original and adversarial"></div>
      <div class="sw-legend"><i class="sw-k-clean"></i> original <i class="sw-k-adv"></i> adversarial</div>
    </div>`;
  const q = (s) => root.querySelector(s);
  const bars = q(".sw-bars");
  const rows = [];
  for (let d = 0; d < 10; d++) {
    const row = document.createElement("div");
    row.className = "sw-bar";
    row.setAttribute("role", "listitem");
    row.innerHTML = `<span class="sw-d" aria-hidden="true">${d}</span><span class="sw-pair" aria-hidden="true"><i class="sw-b-clean"></i><i class="sw-b-adv"></i></span><span class="sw-sr"></span>`;
    bars.appendChild(row);
    rows.push({ clean: row.querySelector(".sw-b-clean"), adv: row.querySelector(".sw-b-adv"), text: row.querySelector(".sw-sr"), row });
  }
  return {
    range: q(".sw-range"), eps: q(".sw-eps"), marks: q(".sw-marks"),
    axis: q(".sw-axis"), hint: q(".sw-hint"), chgCap: q(".sw-chg-cap"),
    clean: q(".sw-clean"), cleanCls: q(".sw-clean-cls"), cleanP: q(".sw-clean-p"),
    chg: q(".sw-chg"), adv: q(".sw-adv"), advCls: q(".sw-adv-cls"), advP: q(".sw-adv-p"),
    verdict: q(".sw-verdict"), linf: q(".sw-linf"), levels: q(".sw-levels"), l2: q(".sw-l2"),
    changed: q(".sw-changed"), rows,
  };
}

function show(ui, data, index) {
  const axis = AXES[data.axis] || AXES.epsilon;
  const eps = data.epsilons[index];
  const s = data.steps[index];
  ui.eps.textContent = axis.value(eps);
  // the range's own value is a step number: screen readers announce the setting instead
  ui.range.setAttribute("aria-valuetext", `${axis.label} ${axis.value(eps)}: read as ${s.cls}`);
  const outlined = data.axis === "pixels" ? " The changed pixels are outlined." : "";
  ui.adv.alt = `The adversarial digit ${axis.at(eps)}: the network reads it as ${s.cls}, ${pct(s.p)} sure.${outlined}`;
  ui.chg.alt = data.axis === "pixels"
    ? `The change: ${s.changed} of 784 pixels made brighter, none by more than ${s.linf.toFixed(3)}.`
    : `The change ${axis.at(eps)}: ${s.changed} of 784 pixels moved, none by more than ${s.linf.toFixed(3)}.`;
  ui.adv.src = s.img;
  ui.chg.src = s.chg;
  ui.advCls.textContent = String(s.cls);
  ui.advP.textContent = `(${pct(s.p)} sure)`;
  ui.linf.textContent = s.linf.toFixed(3);
  ui.levels.textContent = `(${Math.round(s.linf * data.grey_levels)} of 255 grey levels)`;
  ui.l2.textContent = s.l2.toFixed(2);
  ui.changed.textContent = String(s.changed);
  if (eps === 0) {
    ui.verdict.className = "sw-verdict";
    ui.verdict.textContent = `${axis.label[0].toUpperCase()}${axis.label.slice(1)} 0: nothing changes. Move the slider.`;
  } else if (s.fooled) {
    ui.verdict.className = "sw-verdict sw-bad";
    ui.verdict.textContent = `Fooled. The network now says ${s.cls} (${pct(s.p)} sure), ${axis.fooled(s)}.`;
  } else {
    ui.verdict.className = "sw-verdict sw-good";
    ui.verdict.textContent = `Not fooled yet ${axis.at(eps)}: still ${s.cls}.`;
  }
  for (let d = 0; d < 10; d++) {
    ui.rows[d].clean.style.width = pct(data.clean_probs[d]);
    ui.rows[d].adv.style.width = pct(s.probs[d]);
    const said = `${d}: original ${(100 * data.clean_probs[d]).toFixed(1)}%, adversarial ${(100 * s.probs[d]).toFixed(1)}%`;
    ui.rows[d].row.title = said;
    ui.rows[d].text.textContent = said;
  }
}

export default function ({ parentElement, data, setStateValue }) {
  const root = parentElement.querySelector(".sw-root");
  let st = state.get(root);
  if (!st) {
    st = { ui: build(root), key: null };
    state.set(root, st);
    // Keys pressed here stay here: Streamlit's own shortcuts (r: rerun, c: clear caches) listen
    // on the document and would fire while the slider has the focus.
    root.addEventListener("keydown", (e) => e.stopPropagation());
  }
  // the dark theme: the theme's text colour is light
  const text = getComputedStyle(root).color.match(/\d+/g) || ["0", "0", "0"];
  root.classList.toggle("sw-on-dark", text.slice(0, 3).reduce((a, c) => a + Number(c), 0) > 384);
  const ui = st.ui;
  const key = `${data.model}|${data.method}|${data.target}|${data.clean.img}`;
  const axis = AXES[data.axis] || AXES.epsilon;
  const last = data.epsilons.length - 1;
  if (st.key !== key) { // a new digit, model or attack: start where the page says
    st.key = key;
    ui.range.max = String(last);
    ui.range.setAttribute("aria-label", axis.label);
    ui.axis.textContent = axis.label;
    ui.hint.textContent = axis.hint(data);
    ui.chgCap.textContent = axis.change;
    ui.range.value = String(Math.max(0, Math.min(last, data.index)));
    ui.clean.src = data.clean.img;
    ui.cleanCls.textContent = String(data.clean.cls);
    ui.clean.alt = `The original digit: the network reads it as ${data.clean.cls}, ${pct(data.clean.p)} sure.`;
    ui.cleanP.textContent = `(${pct(data.clean.p)} sure)`;
    ui.marks.innerHTML = "";
    const top = data.epsilons[last];
    for (const [method, eps] of Object.entries(data.flips)) {
      const mark = document.createElement("span");
      mark.className = "sw-mark";
      mark.style.left = `${(100 * eps) / top}%`;
      mark.textContent = `${method} flips at ${axis.flip(eps)}`;
      ui.marks.appendChild(mark);
    }
  }
  st.data = data;
  ui.range.oninput = () => show(ui, st.data, Number(ui.range.value));
  ui.range.onchange = () => setStateValue("epsilon", st.data.epsilons[Number(ui.range.value)]);
  show(ui, data, Number(ui.range.value));
}
