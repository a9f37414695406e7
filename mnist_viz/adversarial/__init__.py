"""How easily the network is fooled, and how to make it harder.

- ``attacks``: FGSM and PGD behind one registry, minimal flipping epsilons, robustness curves.
- ``jsma``: JSMA, the few-pixel (L0) targeted attack, and its path of changed pixels.
- ``lab``: what the adversarial lab shows for one digit (sweeps, outcomes, curves).
- ``adversarial_training``: train the same network on attacked images.
"""
