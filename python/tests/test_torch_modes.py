"""LovaszLoss is a drop-in for segmentation_models_pytorch's LovaszLoss (the same results in the
binary and multiclass modes; multilabel = independent channels, equal to smp for one channel)
and offers mmsegmentation's class_weight / loss_weight, reductions, the symmetric hinge and
strict input checks. References: smp_reference.py (smp's and mmseg's definitions in float64)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import lovasz  # noqa: E402
from lovasz.torch import LovaszLoss  # noqa: E402
from smp_reference import smp_lovasz_hinge, smp_lovasz_loss, smp_lovasz_softmax  # noqa: E402

IGNORE = 255


def scores_and_labels(shape, classes, seed=0, ignore=None):
    generator = torch.Generator().manual_seed(seed)
    scores = 2 * torch.randn(shape, generator=generator)
    label_shape = (shape[0],) + tuple(shape[2:]) if len(shape) > 3 else tuple(shape)
    labels = torch.randint(0, classes, label_shape, generator=generator)
    if ignore is not None:
        labels[torch.rand(label_shape, generator=generator) < 0.2] = ignore
    return scores, labels


def ours_and_reference(criterion, reference, scores, labels):
    """(value, grad) of our criterion (float32) and of the float64 reference."""
    ours_input = scores.clone().requires_grad_()
    ours = criterion(ours_input, labels)
    ours.sum().backward()
    reference_input = scores.double().requires_grad_()
    expected = reference(reference_input, labels)
    expected.sum().backward()
    return ours, ours_input.grad, expected, reference_input.grad


def assert_matches(result):
    ours, ours_grad, expected, expected_grad = result
    assert ours.dtype == torch.float32 and ours.shape == expected.shape
    np.testing.assert_allclose(ours.detach().numpy(), expected.detach().numpy(), rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(ours_grad.numpy(), expected_grad.numpy(), rtol=1e-4, atol=2e-6)


@pytest.mark.parametrize("per_image", [False, True])
@pytest.mark.parametrize("ignore", [None, IGNORE])
def test_multiclass_matches_smp(engine, per_image, ignore):
    scores, labels = scores_and_labels((3, 4, 7, 6), 4, ignore=ignore)
    criterion = LovaszLoss("multiclass", per_image=per_image, ignore_index=ignore, engine=engine)
    assert_matches(ours_and_reference(
        criterion, lambda x, y: smp_lovasz_loss("multiclass", x, y, per_image, ignore), scores, labels))


@pytest.mark.parametrize("per_image", [False, True])
@pytest.mark.parametrize("ignore", [None, IGNORE])
@pytest.mark.parametrize("channel_axis", [False, True])
def test_binary_matches_smp(engine, per_image, ignore, channel_axis):
    scores, labels = scores_and_labels((3, 7, 6), 2, seed=1, ignore=ignore)
    if channel_axis:
        scores, labels = scores[:, None], labels[:, None]
    criterion = LovaszLoss("binary", per_image=per_image, ignore_index=ignore, engine=engine)
    assert_matches(ours_and_reference(
        criterion, lambda x, y: smp_lovasz_loss("binary", x, y, per_image, ignore), scores, labels))


@pytest.mark.parametrize("per_image", [False, True])
def test_multilabel_is_the_mean_of_independent_channels(engine, per_image):
    generator = torch.Generator().manual_seed(2)
    scores = torch.randn(3, 4, 5, 6, generator=generator)
    labels = (torch.rand(3, 4, 5, 6, generator=generator) > 0.6).to(torch.uint8)
    labels[0, 1, :2] = IGNORE

    def reference(x, y):
        channels = [smp_lovasz_hinge(x[:, c], y[:, c], per_image=per_image, ignore=IGNORE) for c in range(x.shape[1])]
        return torch.stack(channels).mean()

    criterion = LovaszLoss("multilabel", per_image=per_image, ignore_index=IGNORE, engine=engine)
    assert_matches(ours_and_reference(criterion, reference, scores, labels))


@pytest.mark.parametrize("per_image", [False, True])
def test_multilabel_with_one_channel_equals_smp(engine, per_image):
    generator = torch.Generator().manual_seed(3)
    scores = torch.randn(2, 1, 6, 5, generator=generator)
    labels = (torch.rand(2, 1, 6, 5, generator=generator) > 0.5).to(torch.int64)
    criterion = LovaszLoss("multilabel", per_image=per_image, engine=engine)
    assert_matches(ours_and_reference(
        criterion, lambda x, y: smp_lovasz_loss("multilabel", x, y, per_image), scores, labels))


def test_reduction_none_gives_the_per_image_vector_and_sum_its_sum(engine):
    scores, labels = scores_and_labels((4, 3, 5, 5), 3, seed=4, ignore=IGNORE)
    labels[2] = IGNORE  # an image with every pixel ignored counts as 0

    def per_image(x, y):
        return torch.stack([smp_lovasz_softmax(x[b:b + 1].softmax(1), y[b:b + 1], ignore=IGNORE) for b in range(4)])

    none = LovaszLoss("multiclass", per_image=True, ignore_index=IGNORE, reduction="none", engine=engine)
    assert_matches(ours_and_reference(none, per_image, scores, labels))
    assert float(none(scores, labels)[2]) == 0.0
    total = LovaszLoss("multiclass", per_image=True, ignore_index=IGNORE, reduction="sum", engine=engine)
    assert_matches(ours_and_reference(total, lambda x, y: per_image(x, y).sum(), scores, labels))
    batch = LovaszLoss("multiclass", per_image=False, ignore_index=IGNORE, reduction="none", engine=engine)
    assert batch(scores, labels).shape == ()


def test_binary_and_multilabel_vectors(engine):
    generator = torch.Generator().manual_seed(5)
    scores = torch.randn(2, 3, 4, 5, generator=generator)
    labels = (torch.rand(2, 3, 4, 5, generator=generator) > 0.5).to(torch.uint8)
    binary = LovaszLoss("binary", per_image=True, reduction="none", engine=engine)
    assert_matches(ours_and_reference(
        binary, lambda x, y: torch.stack([smp_lovasz_hinge(x[b:b + 1, 0], y[b:b + 1, 0]) for b in range(2)]),
        scores[:, :1], labels[:, :1]))
    per_class = LovaszLoss("multilabel", reduction="none", engine=engine)
    assert_matches(ours_and_reference(
        per_class, lambda x, y: torch.stack([smp_lovasz_hinge(x[:, c], y[:, c], per_image=False) for c in range(3)]),
        scores, labels))
    per_image_class = LovaszLoss("multilabel", per_image=True, reduction="none", engine=engine)
    assert per_image_class(scores, labels).shape == (2, 3)


@pytest.mark.parametrize("per_image", [False, True])
def test_mmseg_class_weight_is_the_mean_of_weighted_class_losses(engine, per_image):
    scores, labels = scores_and_labels((2, 4, 6, 6), 3, seed=6, ignore=IGNORE)  # class 3 absent
    weights = [0.5, 2.0, 1.0, 4.0]
    criterion = LovaszLoss("multiclass", per_image=per_image, ignore_index=IGNORE, class_weight=weights,
                           loss_weight=0.7, engine=engine)
    assert_matches(ours_and_reference(
        criterion,
        lambda x, y: 0.7 * smp_lovasz_softmax(x.softmax(1), y, per_image=per_image, ignore=IGNORE, class_weight=weights),
        scores, labels))


def test_class_weights_are_the_weighted_mean(engine):
    scores, labels = scores_and_labels((2, 4, 6, 6), 3, seed=7)  # classes 0..2 present, 3 absent
    weights = [0.5, 2.0, 1.0, 4.0]
    present_weight = sum(weights[:3])
    criterion = LovaszLoss("multiclass", class_weights=weights, engine=engine)
    assert_matches(ours_and_reference(
        criterion,
        lambda x, y: smp_lovasz_softmax(x.softmax(1), y, class_weight=weights) * 3 / present_weight,
        scores, labels))


@pytest.mark.parametrize("per_image", [False, True])
def test_symmetric_hinge(engine, per_image):
    scores, labels = scores_and_labels((2, 6, 5), 2, seed=8, ignore=IGNORE)
    labels = labels.to(torch.uint8)

    def reference(x, y):
        flipped = torch.where(y == IGNORE, y, 1 - y)
        return (smp_lovasz_hinge(x, y, per_image, IGNORE) + smp_lovasz_hinge(-x, flipped, per_image, IGNORE)) / 2

    criterion = LovaszLoss("binary", per_image=per_image, ignore_index=IGNORE, symmetric=True, engine=engine)
    assert_matches(ours_and_reference(criterion, reference, scores, labels))
    function = lovasz.torch.lovasz_hinge(scores, labels, per_image=per_image, ignore_index=IGNORE, symmetric=True,
                                         engine=engine)
    torch.testing.assert_close(function, criterion(scores, labels))


def test_probabilities_with_from_logits_false(engine):
    scores, labels = scores_and_labels((2, 3, 5, 4), 3, seed=9)
    criterion = LovaszLoss("multiclass", from_logits=False, engine=engine)
    assert_matches(ours_and_reference(
        criterion, lambda p, y: smp_lovasz_softmax(p, y), scores.softmax(1), labels))


def test_labels_must_have_the_scores_spatial_layout(engine):
    scores, labels = scores_and_labels((2, 3, 4, 5), 3, seed=10)
    criterion = LovaszLoss("multiclass", engine=engine)
    criterion(scores, labels[:, None])  # [B, 1, H, W] is fine
    for wrong in (labels.transpose(1, 2), labels.reshape(2, 20), labels.reshape(2, 1, 20)):
        with pytest.raises(lovasz.LovaszError, match="invalid shape"):
            criterion(scores, wrong)
    with pytest.raises(lovasz.LovaszError, match="invalid shape"):
        lovasz.softmax(scores.numpy(), labels.transpose(1, 2).numpy(), engine=engine)
    binary = LovaszLoss("binary", engine=engine)
    with pytest.raises(lovasz.LovaszError, match="invalid shape"):
        binary(scores[:, 0], (labels % 2).transpose(1, 2))
    with pytest.raises(lovasz.LovaszError, match="invalid shape"):
        LovaszLoss("multilabel", engine=engine)(scores, labels % 2)


@pytest.mark.parametrize("dtype", [torch.int64, torch.int32, torch.uint8, torch.bool])
def test_integer_scores_are_rejected(engine, dtype):
    scores, labels = scores_and_labels((2, 3, 4, 5), 3, seed=11)
    with pytest.raises(lovasz.LovaszError, match="floating-point"):
        LovaszLoss("multiclass", engine=engine)(scores.to(dtype), labels)


def test_bad_options_are_named():
    for arguments, message in (
        (dict(mode="softmax"), "mode"),
        (dict(mode="multiclass", reduction="avg"), "reduction"),
        (dict(mode="multiclass", class_weights=[1, 2], class_weight=[1, 2]), "not both"),
        (dict(mode="binary", from_logits=False), "takes logits"),
        (dict(mode="multiclass", symmetric=True), "symmetric"),
        (dict(mode="binary", classes=[0]), "binary mode"),
    ):
        with pytest.raises(lovasz.LovaszError, match=message):
            LovaszLoss(**arguments)
