"""A naive reference for the three Lovász losses, independent of the library.

The Lovász extension is evaluated directly from its definition (Berman et al., Eq. 8-9): the
errors are sorted in decreasing order (ties by index), and the weight of the i-th error is the
Jaccard loss of the set of the first i pixels minus that of the first i-1, each computed from
Python sets, in float64. Gradients go through the softmax / sigmoid by the chain rule.
"""

import numpy as np


def jaccard_loss(predicted, foreground):
    """|S| / |foreground ∪ S|: the Jaccard loss of mispredicting the pixels in S (0 for S = ∅)."""
    if not predicted:
        return 0.0
    return len(predicted) / len(foreground | predicted)


def lovasz_extension(errors, foreground):
    """The Lovász extension of the Jaccard loss at `errors` and its gradient."""
    order = sorted(range(len(errors)), key=lambda i: (-errors[i], i))
    fg = {i for i in range(len(errors)) if foreground[i]}
    gradient = np.zeros(len(errors))
    prefix = set()
    previous = 0.0
    for i in order:
        prefix.add(i)
        current = jaccard_loss(prefix, fg)
        gradient[i] = current - previous
        previous = current
    return gradient


def reference(loss, scores, labels, *, classes="present", class_weights=None, per_image=None,
              ignore_index=None, scores_are="logits"):
    """The loss and d loss / d scores (float64) of one of the three losses."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels).astype(np.int64)
    if per_image is None:
        per_image = loss != "softmax"
    batch = scores.shape[0]
    if loss == "softmax":
        channels = scores.shape[1]
        flat = scores.reshape(batch, channels, -1)
        if scores_are == "logits":
            shifted = np.exp(flat - flat.max(axis=1, keepdims=True))
            probabilities = shifted / shifted.sum(axis=1, keepdims=True)
        else:
            probabilities = flat
    else:
        flat = scores.reshape(batch, 1, -1)
        if loss == "sigmoid" and scores_are == "logits":
            probabilities = 1.0 / (1.0 + np.exp(-flat))
        else:
            probabilities = flat
    labels = labels.reshape(batch, -1)
    pixels = labels.shape[1]
    d_probabilities = np.zeros_like(probabilities)
    groups = [[b] for b in range(batch)] if per_image else [list(range(batch))]
    scale = 1.0 / batch if per_image else 1.0
    total = 0.0
    for group in groups:
        valid = [(b, s) for b in group for s in range(pixels) if labels[b, s] != ignore_index]
        if not valid:
            continue
        group_labels = [labels[b, s] for b, s in valid]
        if loss == "softmax":
            if classes == "present":
                chosen = sorted(set(group_labels))
            elif classes == "all":
                chosen = list(range(channels))
            else:
                chosen = list(classes)
            weights = [1.0 if class_weights is None else float(class_weights[c]) for c in chosen]
            weight_sum = sum(weights)
            if weight_sum == 0:
                continue
            for c, weight in zip(chosen, weights):
                foreground = [y == c for y in group_labels]
                f = np.array([probabilities[b, c, s] for b, s in valid])
                errors = np.where(foreground, 1.0 - f, f)
                g = lovasz_extension(errors, foreground)
                factor = scale * weight / weight_sum
                total += factor * float(errors @ g)
                for (b, s), fg, gi in zip(valid, foreground, g):
                    d_probabilities[b, c, s] += factor * gi * (-1.0 if fg else 1.0)
        else:
            foreground = [y == 1 for y in group_labels]
            value = np.array([probabilities[b, 0, s] for b, s in valid])
            if loss == "hinge":
                sign = np.where(foreground, 1.0, -1.0)
                errors = 1.0 - value * sign
                g = lovasz_extension(errors, foreground)
                total += scale * float(np.maximum(errors, 0.0) @ g)
                d_errors = g * (errors > 0)
                d_value = -sign * d_errors
            else:
                errors = np.abs(np.where(foreground, 1.0, 0.0) - value)
                g = lovasz_extension(errors, foreground)
                total += scale * float(errors @ g)
                d_value = np.where(foreground, -1.0, 1.0) * g
            for (b, s), d in zip(valid, d_value):
                d_probabilities[b, 0, s] += scale * d
    if loss == "softmax" and scores_are == "logits":
        inner = (d_probabilities * probabilities).sum(axis=1, keepdims=True)
        d_scores = probabilities * (d_probabilities - inner)
    elif loss == "sigmoid" and scores_are == "logits":
        d_scores = d_probabilities * probabilities * (1.0 - probabilities)
    else:
        d_scores = d_probabilities
    return total, d_scores.reshape(scores.shape)
