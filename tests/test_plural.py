import pytest

from tasray.plural import plural


@pytest.mark.parametrize(
    ("number", "noun", "text"),
    [
        (0, "epoch", "0 epochs"),
        (2, "baseline", "2 baselines"),
        (1, "epoch", "1 epoch"),
        (1.0, "GPU", "1 GPU"),
        (0.5, "GPU", "0.5 GPUs"),
        (64.0, "CPU", "64 CPUs"),
        (2, "baseline point", "2 baseline points"),
    ],
)
def test_the_noun_takes_the_number_of_its_count(number, noun, text):
    assert plural(number, noun) == text


def test_an_irregular_plural_is_given():
    assert (plural(1, "class", "classes"), plural(3, "class", "classes")) == ("1 class", "3 classes")
