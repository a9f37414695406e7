"""The network and the visual cortex.

- ``cortex``: the page's measurements, computed once per model.
- ``gabor``: Gabor and difference-of-Gaussians fits to kernels.
- ``tuning``: in-silico electrophysiology with gratings and bars.
- ``rsa``: representational similarity analysis between layers and networks.
"""
