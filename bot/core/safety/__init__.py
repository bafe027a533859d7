"""The safety layer: emergencies found first, on every message, in any wording.

It reads the raw text (folded only), with its own tolerant matching, and decides on
its own whether a message describes an emergency happening now; intent scoring never
does. What it knows is content/urgent.yaml.
"""

from bot.core.safety.detect import Safety, Verdict

__all__ = ["Safety", "Verdict"]
