"""Why the network answers as it does: attribution methods behind one interface, and
invariance probes.

- ``explanations``: the registry of methods and ``explain`` (the pages' one entry point).
- ``saliency``: gradient saliency and SmoothGrad.
- ``gradcam``: Grad-CAM on the last convolution.
- ``occlusion``: occlusion sensitivity.
- ``invariance``: shift, rotate, scale and thicken a digit until the answer changes.
"""
