"""A procedural affordance dataset imitating 3D AffordanceNet: 23 categories, full shapes and views.

    generate_dataset(out, train=N, val=M, seed=S)   # what `lmad synth` runs
    make_object(category, rng)                      # one labelled object (8192 surface points)
"""

from lmad.data.synthetic.categories import CATEGORY_AFFORDANCES, GENERATORS, REAL_CATEGORY_COUNTS
from lmad.data.synthetic.dataset import category_plan, generate_dataset
from lmad.data.synthetic.generate import make_object, visible_from

__all__ = ["CATEGORY_AFFORDANCES", "GENERATORS", "REAL_CATEGORY_COUNTS", "category_plan", "generate_dataset",
           "make_object", "visible_from"]
