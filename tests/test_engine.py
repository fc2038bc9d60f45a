"""The verdict's false-alarm rate at the sizes issue 18 names, simulated: a model that has learned is rarely called
'not learned' on a small validation set, and a model at chance is still caught on a large one."""
import numpy as np, pytest
from vatt.evaluate import verdict, not_learned


def confusion(support, recall, rng):
    "Metrics of a model right with probability recall[c] on class c, and otherwise one of the other classes at random."
    k = len(support); cm = np.zeros((k, k), dtype=int)
    for c, (n, r) in enumerate(zip(support, recall)):
        right = rng.binomial(n, r); cm[c, c] = right
        np.add.at(cm[c], rng.choice([j for j in range(k) if j != c], n - right), 1)
    return dict(confusion=cm.tolist(), per_class={f'c{i}': {} for i in range(k)})


def at_chance(support, rng):
    "Metrics of a model whose predictions ignore the image (uniform over the classes)."
    k = len(support); cm = np.zeros((k, k), dtype=int)
    for c, n in enumerate(support): np.add.at(cm[c], rng.integers(0, k, n), 1)
    return dict(confusion=cm.tolist(), per_class={f'c{i}': {} for i in range(k)})


def rate(kind, make, n=150, seed=0):
    rng = np.random.default_rng(seed)
    return np.mean([verdict(make(rng)).kind == kind for _ in range(n)])


@pytest.mark.parametrize('name, support, recall', [
    ('3 classes, 20 images, accuracy 0.6', [7, 7, 6], [0.6] * 3),
    ('2 classes, 10 images, accuracy 0.85', [5, 5], [0.85] * 2),
    ('95 % good parts, 200 images, a useful detector', [190, 10], [0.95, 0.7]),
])
def test_a_model_that_learned_is_rarely_called_not_learned(name, support, recall):
    assert rate('not learned', lambda rng: confusion(support, recall, rng)) < 0.05, name


def test_one_miss_on_a_class_with_one_image_condemns_nothing():
    m = dict(confusion=[[30, 0, 0], [0, 30, 0], [0, 1, 0]], per_class={'a': {}, 'b': {}, 'c': {}})
    assert verdict(m).kind == 'learned' and not_learned(m) is None


@pytest.mark.parametrize('support', [[200, 200, 200], [100, 100]])
def test_a_model_at_chance_is_caught_on_a_large_set(support):
    assert rate('not learned', lambda rng: at_chance(support, rng), n=60) >= 0.9
    majority = dict(confusion=[[0, 10], [0, 190]], per_class={'defect': {}, 'good': {}})  # always 'good': accuracy 0.95
    assert verdict(majority).kind == 'not learned' and 'does not recognise defect' in verdict(majority).sentence


def test_a_small_set_cannot_tell():
    v = verdict(dict(confusion=[[2, 1], [1, 2]], per_class={'a': {}, 'b': {}}))
    assert v.kind == 'cannot tell' and 'too few images' in v.sentence and 'balanced accuracy 0.667 on 6 images' in v.sentence
