"""Why the network answers as it does: attribution methods behind one interface, and
invariance probes.

- ``explanations``: the registry of methods and ``explain_all`` (the pages' one entry point).
- ``reading``: how a map is read: its unit, sign, shared colour scale and negligible level.
- ``saliency``: gradient saliency and SmoothGrad.
- ``gradcam``: Grad-CAM on the last convolution.
- ``occlusion``: occlusion sensitivity.
- ``invariance``: shift, rotate, scale and thicken a digit until the answer changes.
"""
