"""segmentation_models_pytorch's and mmsegmentation's published Lovász definitions, re-written
here in float64 autograd so that the tests need neither package (smp pulls timm and
huggingface-hub; mmseg pulls mmcv). Differences from those packages' code are only in form."""

import torch
import torch.nn.functional as F


def lovasz_grad(gt_sorted):
    p = len(gt_sorted)
    gts = gt_sorted.sum()
    intersection = gts - gt_sorted.double().cumsum(0)
    union = gts + (1 - gt_sorted).double().cumsum(0)
    jaccard = 1.0 - intersection / union
    if p > 1:
        jaccard[1:p] = jaccard[1:p] - jaccard[0:-1]
    return jaccard


def mean(values):
    values = list(values)
    return sum(values) / len(values) if values else torch.zeros((), dtype=torch.float64)


def hinge_flat(logits, labels):
    if len(labels) == 0:
        return logits.sum() * 0.0
    signs = 2.0 * labels.double() - 1.0
    errors = 1.0 - logits * signs
    errors_sorted, perm = torch.sort(errors, dim=0, descending=True)
    return torch.dot(F.relu(errors_sorted), lovasz_grad(labels[perm]))


def flatten_binary(scores, labels, ignore):
    scores, labels = scores.reshape(-1), labels.reshape(-1)
    if ignore is None:
        return scores, labels
    valid = labels != ignore
    return scores[valid], labels[valid]


def smp_lovasz_hinge(logits, labels, per_image=True, ignore=None):
    if per_image:
        return mean(hinge_flat(*flatten_binary(log.unsqueeze(0), lab.unsqueeze(0), ignore))
                    for log, lab in zip(logits, labels))
    return hinge_flat(*flatten_binary(logits, labels, ignore))


def softmax_flat(probas, labels, classes="present", class_weight=None):
    if probas.numel() == 0:
        return probas.sum() * 0.0
    C = probas.size(1)
    losses = []
    for c in (list(range(C)) if classes in ("all", "present") else classes):
        fg = (labels == c).double()
        if classes == "present" and fg.sum() == 0:
            continue
        errors = (fg - probas[:, c]).abs()
        errors_sorted, perm = torch.sort(errors, 0, descending=True)
        loss = torch.dot(errors_sorted, lovasz_grad(fg[perm]))
        if class_weight is not None:  # mmsegmentation
            loss = loss * class_weight[c]
        losses.append(loss)
    return torch.stack(losses).mean() if losses else probas.sum() * 0.0


def flatten_probas(probas, labels, ignore):
    C = probas.size(1)
    probas = torch.movedim(probas, 1, -1).contiguous().view(-1, C)
    labels = labels.reshape(-1)
    if ignore is None:
        return probas, labels
    valid = labels != ignore
    return probas[valid], labels[valid]


def smp_lovasz_softmax(probas, labels, classes="present", per_image=False, ignore=None, class_weight=None):
    if per_image:
        return mean(softmax_flat(*flatten_probas(p.unsqueeze(0), l.unsqueeze(0), ignore), classes, class_weight)
                    for p, l in zip(probas, labels))
    return softmax_flat(*flatten_probas(probas, labels, ignore), classes, class_weight)


def smp_lovasz_loss(mode, y_pred, y_true, per_image=False, ignore_index=None):
    """smp.losses.LovaszLoss(mode, per_image, ignore_index)(y_pred, y_true)."""
    if mode in ("binary", "multilabel"):
        return smp_lovasz_hinge(y_pred, y_true, per_image=per_image, ignore=ignore_index)
    return smp_lovasz_softmax(y_pred.softmax(dim=1), y_true, per_image=per_image, ignore=ignore_index)
