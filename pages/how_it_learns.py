"""How it learns: one training step as arithmetic on a private copy of the network, and
backpropagation beside a rule a brain could run (feedback alignment)."""

import streamlit as st

from mnist_viz.inside import feedback_alignment as fa
from mnist_viz.inside import learning_step, step_table
from mnist_viz.view import render
from ui.digit import current_digit, no_digit_prompt
from ui.learning import (
    copy_note,
    feedback_alignment_run,
    gradient_map,
    network_for_page,
    rule_curves,
    step_controls,
    true_label,
    weight_picker,
)
from ui.models import get_data, get_model
from ui.sidebar import render_sidebar

st.title("How it learns")
st.caption(
    "A network learns by nudging every weight a little in the direction that lowers its loss on "
    "a digit. Here you take such steps yourself, on your own copy of the network: the shared "
    "network, and everyone else's, never changes."
)
cached = get_model()
digit = current_digit()

st.header("One step of learning, as arithmetic")
fwd = None
sha = cached.info.model_sha256
if digit is None:
    no_digit_prompt("how the network would learn from it")
else:
    model, steps = network_for_page(sha, cached.model)
    picture, asked = st.columns([1, 3])
    picture.image(
        render.png(render.grey_image(digit.image, scale=4)),
        caption=f"The digit: {digit.description}",
        alt=f"The digit the step learns from: {digit.description}.",
    )
    with asked:
        label = true_label(digit)
    if label is None:
        st.info("Choose the digit's true label above to see its loss and the step.")
    else:
        try:
            fwd = learning_step.forward(model, digit.image, label)
        except ValueError as exc:  # a network whose layers the step does not write out
            st.info(f"This network's step cannot be shown as arithmetic: {exc}.")

if fwd is not None:
    st.subheader("1. Forward: the scores, the probabilities and the loss")
    copy_note(steps)
    st.table(step_table.forward_rows(fwd), hide_index=True)
    st.markdown(f"The loss for true label {label}: **{step_table.loss_text(fwd)}**")
    st.caption(
        "The last layer gives each class a score z; softmax turns the scores into "
        "probabilities p that add up to 1. The loss is small when the true class gets a "
        "probability near 1. Its derivative with respect to each score is simply p - y "
        "(y is 1 for the true class, else 0): that is where learning starts."
    )

    st.subheader("2. Backward: from the loss to one weight")
    copy_note(steps)
    ref, gradient = weight_picker(model, fwd)
    chain = learning_step.backward(model, fwd, ref)
    st.markdown(
        f"**{ref.describe()}**: its gradient now, dL/dw = **{step_table.num(chain.gradient)}**"
    )
    if isinstance(chain, learning_step.ConvChain):
        st.table(step_table.conv_rows(chain), hide_index=True)  # wraps: every number in view
        st.caption(
            "A kernel weight is used at every position of its map, so its gradient adds up "
            "one product per position: the error there times the input the weight touched. "
            "A max pool passes the gradient only to each window's winner (the first one when "
            "two are equal, as TensorFlow does); a ReLU only where its unit was on."
        )
        if terms := step_table.conv_terms(chain):
            title = step_table.terms_title(chain.delta.size, "positions' products")
            with st.expander(title):
                st.table(terms, hide_index=True)
    else:
        st.table(step_table.dense_rows(chain), hide_index=True)
        st.caption(
            "The chain rule: the loss's change with the unit's output, times the ReLU's gate "
            "(1 if the unit was on, 0 if not), times the input the weight multiplies."
        )
        if terms := step_table.dense_terms(chain):
            with st.expander(step_table.terms_title(len(chain.back_terms), "terms of the sum")):
                st.table(terms, hide_index=True)
    gradient_map(ref, gradient)

    st.subheader("3. One step")
    step_controls(digit, label, sha, cached.model)

st.header("Could a brain learn this way?")
st.markdown(
    "Backpropagation sends each error back through the very weights the signal came forward "
    "through, so every neuron would have to know the strength of the synapses it sends out. "
    "No known mechanism lets a neuron do that (the *weight transport problem*). **Feedback "
    "alignment** sends the errors back through fixed random weights instead. It still learns: "
    "the forward weights come to align with the random feedback, so its updates turn towards "
    "the true gradient (Lillicrap, Cownden, Tweed and Akerman 2016, *Random synaptic feedback "
    "weights support error backpropagation for deep learning*, Nature Communications 7:13276)."
)
st.caption(
    f"Two networks of 784 pixels -> {fa.LESSON_HIDDEN} ReLU units -> 10 scores, trained from "
    "the same weights on the same batches, one with each rule. Angles below 90 degrees mean an "
    "update still points downhill; 0 would be the true gradient itself."
)
run = feedback_alignment_run(get_data)
if run is not None:
    st.markdown(fa.lesson_summary(run))
    rule_curves(run)

render_sidebar()
