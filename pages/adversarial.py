"""Adversarial lab: change every pixel a little and watch a confident network change its mind."""

import streamlit as st

from mnist_viz.adversarial.adversarial_training import AdversarialConfig
from mnist_viz.adversarial.attacks import ATTACKS, FGSM, PGD
from mnist_viz.adversarial.lab import (
    DEFAULT_SETTING,
    EPSILON,
    LAB_ATTACKS,
    PIXELS,
    axis_of,
    claimed_epsilon,
    flip_methods,
    layer_changes,
    robustness_method_text,
    setting_text,
    sweep_index,
)
from mnist_viz.core.activations import layer_activations
from mnist_viz.core.architecture import hidden_dense_layers, map_layers
from mnist_viz.core.cache import ModelInfo, architecture_of, model_label
from mnist_viz.core.limits import adversarial_cost_factor, check_trainable
from mnist_viz.core.model import LOGITS
from mnist_viz.core.worker import ADVERSARIAL
from mnist_viz.view import charts
from ui.chart import chart
from ui.class_panels import challenge_submission
from ui.class_session import class_work
from ui.components.sweep import epsilon_sweep
from ui.digit import current_digit, no_digit_prompt
from ui.jobs import watch_training
from ui.lab_maps import feature_map_change
from ui.models import get_activation_model, get_model, robust_slot
from ui.results import (
    compute_robustness,
    get_minimal_epsilon,
    get_sweep,
    get_sweep_view,
    robustness_curves,
)
from ui.sidebar import render_sidebar
from ui.teacher import teacher_only

ROBUST = "adversarially trained"
UNTARGETED = "any wrong answer"
TABLE_EPSILONS = (0.1, 0.2, 0.3)
SLIDER_KEYS = {EPSILON: "lab_sweep", PIXELS: "lab_pixels"}  # a setting never crosses axes


def session_label(info: ModelInfo) -> str:
    """The session's network for the lab: its name, and how it was trained."""
    label = model_label(info)
    return label if "attack" in info.config else f"{label}, standard training"


st.title("Adversarial lab")
st.caption(
    "The fast gradient sign method (FGSM, Goodfellow et al. 2014) asks the network which way each "
    "pixel should move to make its answer worse, then moves every pixel by the same small amount "
    "epsilon in that direction. PGD (Madry et al. 2018) takes many smaller such steps, never "
    "leaving the epsilon limit. Pixels are 0 (black) to 1 (white): epsilon 0.1 is 25 of 255 grey "
    "levels. JSMA (Papernot et al. 2016) does the opposite: it turns a few pixels all the way to "
    "white, two at a time, those that push the network hardest towards its goal."
)
standard = get_model()
slot = robust_slot()
robust = slot.load()
# Named for what they are: the session may look at an MLP or a small CNN, not only the classic one.
STANDARD = session_label(standard.info)
models = {STANDARD: standard}
if robust is not None and robust.info.model_sha256 != standard.info.model_sha256:
    models[ROBUST] = robust
state = st.session_state

digit = current_digit()
if digit is None:
    no_digit_prompt("how easily the network is fooled")
else:
    c1, c2, c3 = st.columns([1.2, 1, 1.2])
    if len(models) > 1:
        chosen = c1.segmented_control(
            "Model under attack", list(models), default=STANDARD, key="lab_model"
        )
    else:
        chosen = STANDARD
        c1.caption(f"Model under attack: {STANDARD} (train a robust one below to compare).")
    cached = models[chosen or STANDARD]
    method = c2.segmented_control("Attack", LAB_ATTACKS, default=FGSM, key="lab_attack") or FGSM
    goal = c3.selectbox(
        "Goal",
        [UNTARGETED, *range(10)],
        key="lab_target",
        format_func=lambda g: (
            "any wrong answer (untargeted)" if g == UNTARGETED else f"make it say {g}"
        ),
    )
    target = None if goal == UNTARGETED else int(goal)
    model = cached.model

    @st.fragment
    def attack_view() -> None:
        flips = {m: get_minimal_epsilon(cached, digit, m, target) for m in flip_methods(method)}
        view = get_sweep_view(cached, digit, method, target, flips)
        axis = axis_of(method)
        setting = epsilon_sweep(view, DEFAULT_SETTING[axis], key=SLIDER_KEYS[axis])
        if method not in view["flips"]:
            most = setting_text(method, view["epsilons"][-1])
            st.caption(f"{method} does not fool this model on this digit up to {most}.")
        outcome = get_sweep(cached, digit, method, target).outcome(
            sweep_index(view["epsilons"], setting)
        )

        challenge_submission(
            class_work(),
            digit,
            outcome.adversarial,
            claimed_epsilon(method, setting, outcome),
            outcome.l2,
            outcome.changed_pixels,
            cached,
        )
        st.subheader(
            f"How the change travels through the network ({setting_text(method, setting)})"
        )
        st.caption("Release the slider above to follow another setting here.")
        activation_model = get_activation_model(cached)
        clean_acts = layer_activations(activation_model, outcome.clean)
        adv_acts = layer_activations(activation_model, outcome.adversarial)
        spatial = {m.name: m for m in map_layers(model)}
        difference = feature_map_change(spatial, clean_acts, adv_acts) if spatial else None
        d1, d2 = st.columns([2, 1])
        if difference is not None:
            d1.image(
                difference.change_png,
                caption="difference: adversarial minus original (blue less, red more), on the "
                f"maps' own scale: {difference.change_numbers}",
                alt=difference.change_alt,
            )
        else:
            d1.caption(
                "This network has no feature maps (no convolutions): the chart beside shows how "
                "much each dense layer's output changed."
            )
        changes = layer_changes(clean_acts, adv_acts)
        shown = [*spatial, *(x.name for x in hidden_dense_layers(model)), LOGITS]
        with d2:
            chart(
                charts.values_chart([changes[n] for n in shown], shown, "relative change"),
                "How much each layer's output changed",
                width="stretch",
            )
            st.caption(
                f"How much each layer's output changed, relative to its size "
                f"(||change|| / ||output||). The input changed by "
                f"{outcome.relative_l2:.0%}."
            )

    attack_view()

st.header("Robustness on the test set")
st.caption(
    f"Test accuracy as epsilon grows: {robustness_method_text(standard.info.n_test)}. Accuracy "
    "at epsilon 0 is the usual accuracy."
)
missing = [
    (n, c, m)
    for n, c in models.items()
    for m in ATTACKS
    if m not in robustness_curves(c.info.model_sha256)
]
if missing and st.button(
    "Measure robustness", icon=":material/speed:", help="About 20 s per model, once per model."
):
    for name, c, m in missing:
        compute_robustness(c.info.model_sha256, c.model, m, f"{name} network")
    st.rerun()
rows, table = [], []
for name, c in models.items():
    curves = robustness_curves(c.info.model_sha256)
    for m, curve in curves.items():
        rows += [
            {"model": name, "attack": m, "epsilon": e, "accuracy": a}
            for e, a in zip(curve.epsilons, curve.accuracies, strict=True)
        ]
    if curves:
        row = {"model": name, "clean": c.info.test_accuracy}
        for m, curve in curves.items():
            row |= {f"{m} {e}": curve.at(e) for e in TABLE_EPSILONS}
        table.append(row)
if rows:
    chart(charts.robustness_chart(rows), "Accuracy under attack by epsilon", width="stretch")
    percent = st.column_config.NumberColumn(format="percent")
    st.dataframe(
        table, hide_index=True, column_config={k: percent for k in table[0] if k != "model"}
    )
elif not missing:
    pass
else:
    st.info("Not measured yet for this model: press **Measure robustness**.")

st.header("An adversarially trained model")
st.caption(
    "Adversarial training (Goodfellow et al. 2014; Madry et al. 2018) trains on attacked images "
    "instead of clean ones, so the network learns to give the same answer for every image within "
    "epsilon of a training digit. It buys robustness, and costs training time (here about 2x for "
    "FGSM, 8x for PGD) and a little clean accuracy. Each network has its own robust twin: this "
    f"section trains and shows the one of **{architecture_of(standard.info).name}**, the network "
    "chosen in the sidebar."
)
job = slot.training()
mine = st.session_state.get("my_robust_training")  # the training this session started, if any
if mine is not None and mine.done:
    del st.session_state.my_robust_training
    if mine.error is not None:
        st.error(f"Adversarial training failed: {mine.error}")
if robust is not None and job is None:
    cfg = robust.info.config
    st.write(
        f"Trained with {cfg.get('attack')} at epsilon {cfg.get('epsilon')} for {cfg.get('epochs')} "
        f"epochs in {robust.info.training_seconds:.0f} s: {robust.info.test_accuracy:.2%} on clean "
        "test images. Choose it above as the model under attack."
    )
if job is not None:
    watch_training(
        job,
        "**Adversarial training.** The robust model appears here for everyone when it is done; "
        "you can leave this page, it goes on.",
    )
elif teacher_only("Training the robust model"):
    with st.form("adversarial_training"):
        f1, f2, f3 = st.columns(3)
        defaults = AdversarialConfig()
        attack = f1.selectbox(
            "Training attack",
            [PGD, FGSM],
            help="FGSM from a random start is fast (Wong et al. 2020); PGD is the stronger, slower classic.",
        )
        epsilon = f2.number_input("Training epsilon", 0.05, 0.4, defaults.epsilon, 0.05)
        epochs = f3.number_input("Epochs", 1, 20, defaults.epochs)
        label = "Retrain the robust model" if robust is not None else "Train a robust model"
        if st.form_submit_button(label, icon=":material/shield:"):
            config = AdversarialConfig(
                attack=attack if attack in ATTACKS else PGD,  # checked: a widget value
                epsilon=float(epsilon),
                epochs=int(epochs),
                arch=architecture_of(standard.info).to_dict(),
            )
            try:  # the form's numbers come from the browser: checked here and by the worker
                factor = adversarial_cost_factor(config.attack, config.pgd_steps)
                check_trainable(config.network(), config.epochs, factor)
            except ValueError as exc:
                st.error(f"Not trained: {exc}.")
            else:
                st.session_state.my_robust_training = slot.train(
                    ADVERSARIAL, config.to_dict(), title="Training the robust model"
                )
                st.rerun()

with st.expander(
    "Why a tiny change fools the network, and what it has to do with illusions", expanded=False
):
    st.markdown(
        """
- **Why it works.** The network's score for each digit is, near an image, close to a weighted sum
  of its 784 pixels. FGSM moves every pixel by epsilon in the direction that lowers the right
  score: each move is tiny, but 784 of them add up to a large change of the score (Goodfellow,
  Shlens and Szegedy 2014, "Explaining and harnessing adversarial examples"). Szegedy et al. (2013,
  "Intriguing properties of neural networks") first showed such imperceptible changes exist.
- **What adversarial training buys and costs.** Trained on PGD examples, a somewhat larger
  network of the same kind (two convolution layers, one dense layer) keeps 89-93% accuracy at
  epsilon 0.3 against PGD, and about 88% against the strongest attacks later submitted to the
  MNIST challenge (Madry et al. 2018, "Towards deep learning models resistant to adversarial
  attacks"), where a standard network falls to near 0%. It costs several times the training time
  and a little clean accuracy (98.8% instead of 99.2%), and it mainly protects against changes of
  the kind and size it was trained on (Tramèr and Boneh 2019, "Adversarial training and robustness
  for multiple perturbations").
- **Illusions: where the analogy holds.** People, too, see things that are not there in
  carefully built images, and Elsayed et al. (2018, "Adversarial examples that fool both computer
  vision and time-limited humans") found that adversarial images crafted to transfer between many
  models also bias people who see them for a fraction of a second.
- **Where it fails.** Human illusions come from the structure of our visual system and are shared
  by nearly everyone; the changes here are aimed at one network's gradients, and an L-infinity
  change of a few grey levels that flips this network does not change what any person sees
  at leisure. Large-epsilon examples here are visibly altered; that is not an illusion either.
"""
    )

render_sidebar()
