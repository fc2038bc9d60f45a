"""See where your image classifier looks: fastai + timm fine-tuning, CAMs, true attention maps, and numbers that prove them

Modules:

- `vatt.anomaly`: Anomaly maps from good images only: synthetic anomalies with exact masks, a decoder trained on them (`learned`), a PatchCore-style memory bank of normal patches (`knn`), both together (`both`), a threshold calibrated on held-out good images, whole images scored at their own resolution, the anomaly field's metrics (image and pixel AUROC, AUPRO), the MVTec AD layout, and the anomaly map as one more method of the maps engine.
- `vatt.attention`: True attention maps for timm ViT/DeiT, CoAtNet and MaxViT: the softmax weights each attention layer really applies (every head, relative position bias included, MaxViT windows put back on the image), per layer, per head, rolled out, or weighted by a class's gradient; with a proof that they reproduce the layer's output. They are map methods of the one engine (`vatt.cam.compute_maps`), served from the same forward pass as the CAMs.
- `vatt.defects`: Learning where the defects are from their masks: loaders that carry a mask per image (or "unknown"), augmentation and crops that keep every defect whole and every label true, a light decoder on any timm encoder's intermediate features next to its classifier, one joint loss for tiny foregrounds, and the learned defect map as one more method of the maps engine."""

__version__ = "0.0.1"
