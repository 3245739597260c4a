"""Which end of a procedural dagger does a checkpoint grasp?

    python docs/experiments/2026-12-05-dagger-probe.py [CHECKPOINT ...]   # 'shipped' for the default

Procedural daggers / swords only (``lmad.data.synthetic.categories.dagger``, seeds 2000-2039; no
real object), lying flat (thin axis up, as the real grasp-voxels knives lie): the mean `grasp`
ROC-AUC of the grip against the rest and how many of the 40 fall below 0.5 (the blade picked),
at 2,048 surface points and as a 32^3 voxel lattice (as grasp-voxels stores objects).
"""
import importlib.util
import sys
from pathlib import Path

from lmad.data.synthetic.categories import dagger
from lmad.predict import AffordanceDetector

# the knife probe's loop, asked about the grip of daggers instead of the handle of kitchen knives
_spec = importlib.util.spec_from_file_location("knife_probe", Path(__file__).with_name("2026-12-05-knife-probe.py"))
knife_probe = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(knife_probe)

for checkpoint in sys.argv[1:] or ["shipped"]:
    detector = AffordanceDetector.from_pretrained(None if checkpoint == "shipped" else checkpoint, tta=1)
    aucs = knife_probe.knife_aucs(detector.with_options(up_axis="y"), dagger, knife_probe.FLAT,
                                  held="grip", first_seed=2000)
    knife_probe.report(checkpoint, "daggers, flat", aucs)
