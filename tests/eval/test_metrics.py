import json

import numpy as np
import pytest

from lmad.eval import OpenADCounts, average_precision, heatmap_metrics, openad_metrics, roc_auc


def test_perfect_and_all_wrong_predictions():
    labels = np.array([0, 0, 1, 2, 2, 2])
    perfect = openad_metrics(labels, labels, num_classes=3)
    assert perfect["Acc"] == 1.0
    assert perfect["mIoU"] == pytest.approx(1.0, abs=1e-6)
    wrong = openad_metrics((labels + 1) % 3, labels, num_classes=3)
    assert wrong["Acc"] == 0.0 and wrong["mIoU"] == 0.0 and wrong["mAcc"] == 0.0


def test_hand_computed_case_with_absent_and_zero_union_classes():
    labels = np.array([0, 0, 0, 1, 1, 3])
    preds = np.array([0, 1, 0, 1, 3, 3])
    result = openad_metrics(preds, labels, num_classes=4)
    # class 0: tp 2, union 3; class 1: tp 1, union 3; class 2: empty union; class 3: tp 1, union 2
    np.testing.assert_allclose(result["IoU"][[0, 1, 3]], [2 / 3, 1 / 3, 1 / 2])
    assert np.isnan(result["IoU"][2])  # shown as undefined ...
    assert result["mIoU"] == pytest.approx((2 / 3 + 1 / 3 + 0 + 1 / 2) / 4, rel=1e-5)  # ... counted as 0
    assert result["Acc"] == pytest.approx(4 / 6)
    assert result["mAcc"] == pytest.approx((2 / 3 + 1 / 2 + 0 + 1) / 4, rel=1e-5)


def test_accumulating_batches_equals_one_call():
    rng = np.random.default_rng(0)
    labels, preds = rng.integers(0, 19, (10, 100)), rng.integers(0, 19, (10, 100))
    counts = OpenADCounts()
    for b in range(10):
        counts.update(preds[b], labels[b])
    assert counts.compute()["mIoU"] == openad_metrics(preds, labels)["mIoU"]
    with pytest.raises(ValueError, match="outside"):
        counts.update(np.array([19]), np.array([0]))


@pytest.mark.parametrize("case", ["openad_eval_case1", "openad_eval_case2"])
def test_golden_reference_values(shared_dir, case):
    arrays = np.load(shared_dir / "golden" / f"{case}.npz")
    reference = json.loads((shared_dir / "golden" / f"{case}.json").read_text())
    result = openad_metrics(arrays["preds"], arrays["labels"])
    expected = reference["full_precision"]
    for key in ("mIoU", "Acc", "mAcc"):
        assert abs(result[key] - expected[key]) < 1e-6, key
    assert abs(result["mIoU"] - reference["returned_mIoU"]) < 1e-12
    printed = expected["per_class_IoU_as_printed_unrounded (null = nan)"]
    for ours, theirs in zip(result["IoU"], printed):
        assert (np.isnan(ours) and theirs is None) or abs(ours - theirs) < 1e-9
    for key in ("intersection", "union"):
        assert result["counts"][key].tolist() == reference["counts"][key]


def test_ranking_metrics_against_hand_values():
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    positives = np.array([True, False, True, False, False])
    assert average_precision(scores, positives) == pytest.approx((1 / 1 + 2 / 3) / 2)
    assert roc_auc(scores, positives) == pytest.approx(5 / 6)
    tied = np.array([0.5, 0.5, 0.5, 0.5])
    assert roc_auc(tied, np.array([True, False, True, False])) == pytest.approx(0.5)


def test_heatmap_metrics_perfect_and_skipping():
    soft = np.zeros((2, 50, 3))
    soft[0, :10, 0] = 1.0
    soft[1, 20:30, 0] = 0.8
    soft[1, :5, 1] = 0.9  # affordance 2 has no positive anywhere: NaN, skipped
    perfect = heatmap_metrics(soft, soft)
    assert perfect["AP"] == pytest.approx(1.0) and perfect["AUC"] == pytest.approx(1.0)
    assert perfect["SIM"] == pytest.approx(1.0) and perfect["MAE"] == pytest.approx(0.0)
    assert np.isnan(perfect["per_affordance"]["AP"][2])
    inverted = heatmap_metrics(1 - soft, soft)
    assert inverted["AUC"] == pytest.approx(0.0) and inverted["aIoU"] < 0.2


def test_roc_auc_with_ties_matches_pairwise_counting():
    rng = np.random.default_rng(3)
    scores = rng.integers(0, 5, 60).astype(float)  # many ties
    positives = rng.random(60) < 0.4
    pos, neg = scores[positives], scores[~positives]
    pairwise = ((pos[:, None] > neg[None, :]).sum() + 0.5 * (pos[:, None] == neg[None, :]).sum()) / (len(pos) * len(neg))
    assert roc_auc(scores, positives) == pytest.approx(pairwise, abs=1e-12)


def test_binary_metrics_hand_made_cases():
    from lmad.eval import binary_metrics

    # one shape, two affordances, four points: affordance 0 present at points 0-1, affordance 1 absent
    labels = np.array([[[0.9, 0.6, 0.0, 0.2], [0.0, 0.0, 0.0, 0.0]]])
    probabilities = np.array([[[0.8, 0.3, 0.1, 0.6], [0.7, 0.0, 0.0, 0.0]]])
    result = binary_metrics(probabilities, labels)
    # affordance 0: predicted {0, 3} against {0, 1}: IoU 1/3; AUC: 0.8 and 0.3 against 0.1 and 0.6 -> 3/4
    assert result["IoU"] == pytest.approx(1 / 3)
    assert result["AUC"] == pytest.approx(0.75)
    thresholds = [round(0.05 * i, 2) for i in range(1, 20)]  # 0.05 ... 0.95, exact decimals
    ious = [len({i for i in range(4) if probabilities[0, 0, i] >= t} & {0, 1})
            / len({i for i in range(4) if probabilities[0, 0, i] >= t} | {0, 1}) for t in thresholds]
    assert result["aIoU"] == pytest.approx(np.mean(ious))
    # affordance 1 is absent: only its false-positive share counts (1 of 4 points)
    assert result["absent_positive_rate"] == pytest.approx(0.25)
    assert np.isnan(result["per_affordance"]["IoU"][1])
    perfect = binary_metrics(np.where(labels >= 0.5, 1.0, 0.0), labels)
    assert perfect["IoU"] == perfect["AUC"] == perfect["aIoU"] == 1.0 and perfect["absent_positive_rate"] == 0.0


def test_exclusive_rule_of_a_per_query_model_is_the_threshold_rule():
    import torch

    from lmad.models.scoring import exclusive_probabilities

    logits = torch.tensor([[[2.0, -1.0, -3.0], [0.5, 1.0, -2.0]]])  # (B=1, K=2, N=3)
    for threshold in (0.5, 0.8):
        exclusive = exclusive_probabilities(logits, "bce_dice", none_index=2, threshold=threshold)
        assert exclusive.shape == (1, 3, 3) and torch.allclose(exclusive.sum(1), torch.ones(1, 3))
        probabilities = torch.sigmoid(logits)[0]
        expected = torch.where(probabilities.max(0).values >= threshold, probabilities.argmax(0), 2)
        assert torch.equal(exclusive[0].argmax(0), expected)
    softmax = exclusive_probabilities(logits, "cross_entropy", none_index=2)
    assert softmax.shape == (1, 2, 3) and torch.allclose(softmax, torch.softmax(logits, 1))
