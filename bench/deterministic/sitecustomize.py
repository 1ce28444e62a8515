"""Seeds Python's ``random`` in a server whose instructions bench/instructions.py counts.

The server draws from ``random`` for Magento's 1-in-100 nonce cleanup; seeded, the cleanup falls on the
same requests in every run, so the count repeats. Only that measurement puts this directory on PYTHONPATH.
"""

import random

random.seed(0)
