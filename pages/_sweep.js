// The epsilon slider of the adversarial lab, answered in the browser.
//
// The server sends the whole sweep once per digit and attack: for every epsilon on the slider,
// the adversarial image, the change, the network's answer, its ten probabilities and the size of
// the change (mnist_viz.lab.sweep_view). Moving the slider only swaps what is shown: no request,
// so the new image is on screen in the next frame. When the slider is released, its value is
// sent to the server, which redraws what depends on it further down the page.

const pct = (p) => `${Math.round(100 * p)}%`;
const state = new WeakMap();

function build(root) {
  root.innerHTML = `
    <div class="sw">
      <div class="sw-head">
        <label for="sw-range">epsilon <output class="sw-eps"></output></label>
        <span class="sw-hint">how far any pixel may move (0 = black, 1 = white)</span>
      </div>
      <div class="sw-track">
        <input id="sw-range" class="sw-range" type="range" min="0" step="1" aria-label="epsilon">
        <div class="sw-marks"></div>
      </div>
      <div class="sw-row">
        <figure><img class="sw-clean" alt="original digit">
          <figcaption>Original: <b class="sw-clean-cls"></b> <span class="sw-clean-p"></span></figcaption></figure>
        <figure><img class="sw-chg" alt="the change">
          <figcaption>The change, scaled to be seen: <span class="sw-blue">darker</span> /
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
      <div class="sw-bars" aria-label="probabilities before and after"></div>
      <div class="sw-legend"><i class="sw-k-clean"></i> original <i class="sw-k-adv"></i> adversarial</div>
    </div>`;
  const q = (s) => root.querySelector(s);
  const bars = q(".sw-bars");
  const rows = [];
  for (let d = 0; d < 10; d++) {
    const row = document.createElement("div");
    row.className = "sw-bar";
    row.innerHTML = `<span class="sw-d">${d}</span><span class="sw-pair"><i class="sw-b-clean"></i><i class="sw-b-adv"></i></span>`;
    bars.appendChild(row);
    rows.push({ clean: row.querySelector(".sw-b-clean"), adv: row.querySelector(".sw-b-adv"), row });
  }
  return {
    range: q(".sw-range"), eps: q(".sw-eps"), marks: q(".sw-marks"),
    clean: q(".sw-clean"), cleanCls: q(".sw-clean-cls"), cleanP: q(".sw-clean-p"),
    chg: q(".sw-chg"), adv: q(".sw-adv"), advCls: q(".sw-adv-cls"), advP: q(".sw-adv-p"),
    verdict: q(".sw-verdict"), linf: q(".sw-linf"), levels: q(".sw-levels"), l2: q(".sw-l2"),
    changed: q(".sw-changed"), rows,
  };
}

function show(ui, data, index) {
  const eps = data.epsilons[index];
  const s = data.steps[index];
  ui.eps.textContent = eps.toFixed(2);
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
    ui.verdict.textContent = "Epsilon 0: nothing changes. Move the slider.";
  } else if (s.fooled) {
    ui.verdict.className = "sw-verdict sw-bad";
    ui.verdict.textContent = `Fooled. The network now says ${s.cls} (${pct(s.p)} sure), though no pixel moved more than ${s.linf.toFixed(2)}.`;
  } else {
    ui.verdict.className = "sw-verdict sw-good";
    ui.verdict.textContent = `Not fooled yet at epsilon ${eps.toFixed(2)}: still ${s.cls}.`;
  }
  for (let d = 0; d < 10; d++) {
    ui.rows[d].clean.style.width = pct(data.clean_probs[d]);
    ui.rows[d].adv.style.width = pct(s.probs[d]);
    ui.rows[d].row.title = `${d}: original ${(100 * data.clean_probs[d]).toFixed(1)}%, adversarial ${(100 * s.probs[d]).toFixed(1)}%`;
  }
}

export default function ({ parentElement, data, setStateValue }) {
  const root = parentElement.querySelector(".sw-root");
  let st = state.get(root);
  if (!st) {
    st = { ui: build(root), key: null };
    state.set(root, st);
  }
  const ui = st.ui;
  const key = `${data.method}|${data.target}|${data.clean.img}`;
  const last = data.epsilons.length - 1;
  if (st.key !== key) { // a new digit, model or attack: start where the page says
    st.key = key;
    ui.range.max = String(last);
    ui.range.value = String(Math.max(0, Math.min(last, data.index)));
    ui.clean.src = data.clean.img;
    ui.cleanCls.textContent = String(data.clean.cls);
    ui.cleanP.textContent = `(${pct(data.clean.p)} sure)`;
    ui.marks.innerHTML = "";
    const top = data.epsilons[last];
    for (const [method, eps] of Object.entries(data.flips)) {
      const mark = document.createElement("span");
      mark.className = "sw-mark";
      mark.style.left = `${(100 * eps) / top}%`;
      mark.textContent = `${method} flips at ${eps.toFixed(3)}`;
      ui.marks.appendChild(mark);
    }
  }
  st.data = data;
  ui.range.oninput = () => show(ui, st.data, Number(ui.range.value));
  ui.range.onchange = () => setStateValue("epsilon", st.data.epsilons[Number(ui.range.value)]);
  show(ui, data, Number(ui.range.value));
}
