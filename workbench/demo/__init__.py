"""Demo data: a simulated CRM integration project with dirty exports and a ground truth.

:func:`generate_demo` writes the exports of a CRM, a billing system and a support desk,
the integration's sync log, the ground truth and a ready ``workbench.yaml``.
"""

from workbench.demo.generate import STEPS, DemoSummary, generate_demo

__all__ = ["STEPS", "DemoSummary", "generate_demo"]
