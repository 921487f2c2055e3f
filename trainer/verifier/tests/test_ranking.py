import numpy as np

from local_verifier.ranking import grouped_splits, oracle, pick_value, random_pick, top1


def test_top1_breaks_ties_by_expectation():
    scores = np.array([0.9, 0.9, 0.1, 0.5, 0.2, 0.2])
    labels = np.array([1, 0, 1, 0, 0, 1])
    groups = np.array(["a", "a", "a", "b", "b", "b"])
    # issue a: two tied picks, one resolved -> 0.5; issue b: picks the 0.5, unresolved -> 0.
    assert pick_value(scores[:3], labels[:3]) == 0.5
    assert top1(scores, labels, groups) == 0.25
    assert oracle(labels, groups) == 1.0
    assert random_pick(labels, groups) == (2 / 3 + 1 / 3) / 2


def test_grouped_splits_never_share_an_issue():
    groups = np.repeat([f"g{i}" for i in range(20)], 5)
    splits = list(grouped_splits(groups, folds=5, seeds=[0, 1]))
    assert len(splits) == 10
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
        assert len(train) + len(test) == len(groups)
    first_seed = [set(groups[test]) for _, test in splits[:5]]
    second_seed = [set(groups[test]) for _, test in splits[5:]]
    assert first_seed != second_seed
